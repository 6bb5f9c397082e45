using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hffer.MLNet.IO;
using Hffer.MLNet.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>
/// Everything needed to continue training after a finished epoch: the trainable weights and buffers, Adam's moments
/// and step counts, the best validated epoch's weights, the metrics so far and the epoch number. The learning rate
/// and the random streams of an epoch are functions of the options and the epoch number, so the epoch number is
/// their whole state. Adam's own options (betas, epsilon, weight decay) are restored with its state and then set
/// from the resuming run's options.
/// </summary>
/// <remarks>
/// Layout: the magic <c>HFFERCKP</c>, a format version, the <see cref="TrainingCheckpointInfo"/> as JSON, the
/// network in TorchSharp's state format without the frozen branch, Adam's state, the best weights, then a SHA-256 of
/// everything before it, so a truncated or damaged file is refused before any tensor is read. Written through a
/// temporary file and a rename: a crash mid-write leaves the previous checkpoint whole.
/// </remarks>
internal static class TrainingCheckpoint
{
    /// <summary>The checkpoint's name inside <see cref="HfferOptions.CheckpointDirectory"/>.</summary>
    public const string FileName = "hffer-checkpoint.bin";

    private const int FormatVersion = 1;
    private const int HashLength = 32;
    private static readonly byte[] Magic = "HFFERCKP"u8.ToArray();

    // Metrics can hold NaN only if a future caller records a failed epoch; the header must not break on them.
    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Write(string path, TrainingCheckpointInfo info, HfferNetwork network, OptimizerHelper optimizer,
        IReadOnlyDictionary<string, Tensor>? bestWeights, Func<Stream, Stream>? wrapForTesting = null)
    {
        AtomicFile.Write(path, file =>
        {
            var target = wrapForTesting?.Invoke(file) ?? file;
            using var hashing = new HashingStream(target);
            using (var writer = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(JsonSerializer.Serialize(info, Json));
                WriteTensors(writer, network.TrainableState().ToList());
                optimizer.save_state_dict(writer);
                WriteTensors(writer, bestWeights?.ToList() ?? []);
                writer.Flush();
            }
            target.Write(hashing.CurrentHash());
        });
    }

    /// <summary>Reads and checks the metadata of the checkpoint at <paramref name="path"/>, loading no tensor.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, or it is truncated or damaged.</exception>
    public static TrainingCheckpointInfo ReadInfo(string path)
    {
        Verify(path);
        using var reader = OpenPayload(path);
        return ReadHeader(reader, path);
    }

    /// <summary>
    /// Loads the checkpoint's weights into <paramref name="network"/>, its Adam state into
    /// <paramref name="optimizer"/> and its best epoch into <paramref name="best"/>.
    /// </summary>
    /// <remarks><paramref name="check"/> sees the metadata before any tensor is read, and throws to refuse it.</remarks>
    /// <exception cref="InvalidDataException">The file is damaged or holds another network.</exception>
    public static TrainingCheckpointInfo Restore(string path, HfferNetwork network, OptimizerHelper optimizer,
        BestEpochTracker best, Action<string, TrainingCheckpointInfo> check)
    {
        Verify(path);
        using var reader = OpenPayload(path);
        var info = ReadHeader(reader, path);
        check(path, info);

        try
        {
            var state = network.TrainableState().ToDictionary(e => e.Key, e => e.Value);
            var saved = ReadTensors(reader);
            try
            {
                CheckFits(state, saved, path);
                using var noGrad = no_grad();
                foreach (var (key, value) in saved)
                    state[key].copy_(value);
            }
            finally
            {
                DisposeAll(saved);
            }
            optimizer.load_state_dict(reader);

            var weights = ReadTensors(reader);
            if (info.BestEpoch is { } bestEpoch && weights.Count > 0)
            {
                try
                {
                    CheckFits(state, weights, path);
                }
                catch
                {
                    DisposeAll(weights);
                    throw;
                }
                best.Keep(bestEpoch, info.BestAccuracy, weights);
            }
            else
            {
                DisposeAll(weights);
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or EndOfStreamException)
        {
            throw new InvalidDataException($"The checkpoint {path} does not fit this network: {e.Message}", e);
        }
        return info;
    }

    private static void WriteTensors(BinaryWriter writer, IReadOnlyCollection<KeyValuePair<string, Tensor>> tensors)
    {
        writer.Write(tensors.Count);
        foreach (var (key, value) in tensors)
        {
            writer.Write(key);
            value.Save(writer);
        }
    }

    private static Dictionary<string, Tensor> ReadTensors(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        var tensors = new Dictionary<string, Tensor>(count);
        for (int i = 0; i < count; i++)
            tensors[reader.ReadString()] = TensorExtensionMethods.Load(reader).DetachFromDisposeScope();
        return tensors;
    }

    /// <summary>Checks that <paramref name="saved"/> has exactly the keys and shapes of <paramref name="state"/>.</summary>
    private static void CheckFits(Dictionary<string, Tensor> state, Dictionary<string, Tensor> saved, string path)
    {
        string? missing = state.Keys.FirstOrDefault(key => !saved.ContainsKey(key));
        string? unexpected = saved.Keys.FirstOrDefault(key => !state.ContainsKey(key));
        if (missing is not null || unexpected is not null)
            throw new InvalidDataException($"The checkpoint {path} does not fit this network: " +
                (missing is not null ? $"it lacks '{missing}'." : $"it holds '{unexpected}', which this network lacks."));
        foreach (var (key, value) in saved)
        {
            if (!value.shape.SequenceEqual(state[key].shape))
                throw new InvalidDataException($"The checkpoint {path} does not fit this network: '{key}' is " +
                    $"[{string.Join(", ", value.shape)}] there and [{string.Join(", ", state[key].shape)}] here.");
        }
    }

    private static void DisposeAll(Dictionary<string, Tensor> tensors)
    {
        foreach (var tensor in tensors.Values)
            tensor.Dispose();
    }

    private static void Verify(string path)
    {
        using var stream = File.OpenRead(path);
        if (stream.Length < Magic.Length + HashLength)
            throw Damaged(path, $"it holds only {stream.Length} bytes");

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        long remaining = stream.Length - HashLength;
        while (remaining > 0)
        {
            int read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (read == 0)
                throw Damaged(path, "it became shorter while being read");
            hash.AppendData(buffer, 0, read);
            remaining -= read;
        }
        var stored = new byte[HashLength];
        stream.ReadExactly(stored);
        if (!hash.GetHashAndReset().AsSpan().SequenceEqual(stored))
            throw Damaged(path, "its checksum does not match (truncated or damaged); delete it to train from the " +
                "start, or put back a copy");
    }

    private static BinaryReader OpenPayload(string path) =>
        new(File.OpenRead(path), Encoding.UTF8, leaveOpen: false);

    private static TrainingCheckpointInfo ReadHeader(BinaryReader reader, string path)
    {
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
            throw Damaged(path, "it is not an HFFER training checkpoint");
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            throw Damaged(path, $"it has format version {version}; this library reads version {FormatVersion}");
        return JsonSerializer.Deserialize<TrainingCheckpointInfo>(reader.ReadString(), Json)
            ?? throw Damaged(path, "its header is empty");
    }

    private static InvalidDataException Damaged(string path, string reason) =>
        new($"Cannot resume from {path}: {reason}.");
}
