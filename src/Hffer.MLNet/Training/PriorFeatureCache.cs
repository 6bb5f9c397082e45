using System.Diagnostics;
using System.Runtime.InteropServices;
using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>
/// The frozen DINOv2 branch's tokens of every image of a set, and of its mirror image when training flips, computed
/// once before the first epoch. The branch never trains, so these are exactly the tokens every later step would
/// compute again; the trainable part still trains end to end on top of them.
/// </summary>
/// <remarks>
/// Features are computed per variant (plain, mirrored) in chunks of the entries the store lacks, in image order
/// (for the memory store: all of them), never in the shuffled training batches; so their values do not depend on the shuffle, and a resumed run
/// computes the same numbers as the run it continues.
/// </remarks>
internal sealed class PriorFeatureCache
{
    private const int ChunkSize = 16;

    private readonly IPriorFeatureStore _store;
    private readonly int _tokens;
    private readonly int _width;

    private PriorFeatureCache(IPriorFeatureStore store, int tokens, int width)
    {
        _store = store;
        _tokens = tokens;
        _width = width;
    }

    /// <summary>Floats per image and variant.</summary>
    public static int FeatureLength(HfferArchitecture architecture) =>
        architecture.TokenGrid * architecture.TokenGrid * architecture.VitEmbedDim;

    /// <summary>Fills <paramref name="store"/> with whatever it lacks for <paramref name="images"/>.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired; stored entries stay.</exception>
    public static PriorFeatureCache Fill(HfferNetwork network, ImageSet images, bool withMirrors,
        IPriorFeatureStore store, Device device, string description, Action<string> log, CancellationToken cancellation)
    {
        var architecture = network.Architecture;
        var cache = new PriorFeatureCache(store, architecture.TokenGrid * architecture.TokenGrid,
            architecture.VitEmbedDim);

        bool[] variants = withMirrors ? [false, true] : [false];
        var chunks = variants
            .SelectMany(mirrored => Enumerable.Range(0, images.Count)
                .Where(i => !store.Contains(i, mirrored))
                .Chunk(ChunkSize)
                .Select(indices => (Indices: indices, Mirrored: mirrored)))
            .ToArray();
        int missing = chunks.Sum(c => c.Indices.Length), total = images.Count * variants.Length;
        if (missing == 0)
        {
            log($"Prior features of {description}: all {total:N0} found in the cache.");
            return cache;
        }

        log($"Computing prior features of {description}: {missing:N0} of {total:N0} " +
            $"({(double)missing * store.FeatureLength * sizeof(float) / (1 << 20):N1} MiB).");
        var clock = Stopwatch.StartNew();
        var features = new float[ChunkSize * store.FeatureLength];
        int done = 0, nextReport = Math.Max(1, missing / 10);
        foreach (var (indices, mirrored) in chunks)
        {
            cancellation.ThrowIfCancellationRequested();
            QuietGarbageCollector.Run(() => cache.Compute(network, images, indices, mirrored, device, features));
            for (int i = 0; i < indices.Length; i++)
                store.Write(indices[i], mirrored, features.AsSpan(i * store.FeatureLength, store.FeatureLength));

            done += indices.Length;
            if (done >= nextReport || done == missing)
            {
                log($"  prior features {done:N0}/{missing:N0}, {done / clock.Elapsed.TotalSeconds:F1} img/s");
                nextReport = done + Math.Max(1, missing / 10);
            }
        }
        return cache;
    }

    /// <summary>The cached tokens [n, tokens, width] of <paramref name="indices"/>, mirrored where asked.</summary>
    public Tensor Tokens(ReadOnlySpan<int> indices, bool[]? mirrored, Device device)
    {
        // Read straight into native memory: training steps run in a no-GC region with a fixed managed budget.
        int length = _store.FeatureLength;
        var tokens = empty([indices.Length, _tokens, _width]);
        var destination = MemoryMarshal.Cast<byte, float>(tokens.bytes);
        for (int i = 0; i < indices.Length; i++)
            _store.Read(indices[i], mirrored?[i] ?? false, destination.Slice(i * length, length));

        if (device.type == DeviceType.CPU)
            return tokens;
        using (tokens)
            return tokens.to(device);
    }

    private int Compute(HfferNetwork network, ImageSet images, int[] indices, bool mirrored, Device device,
        float[] destination)
    {
        using var scope = NewDisposeScope();
        var pixels = images.Pixels(indices, device);
        if (mirrored)
            pixels = pixels.flip(3);
        var tokens = network.PriorTokens(ImageNormalization.Apply(pixels)).cpu().contiguous();
        MemoryMarshal.Cast<byte, float>(tokens.bytes).CopyTo(destination);
        return indices.Length;
    }
}
