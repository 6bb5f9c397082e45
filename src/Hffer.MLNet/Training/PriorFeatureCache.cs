using System.Diagnostics;
using System.Runtime.InteropServices;
using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>
/// The frozen prior's tokens of every image of a set, and of its mirror image when training flips, computed
/// once before the first epoch. The branch never trains, so these are exactly the tokens every later step would
/// compute again; the trainable part still trains end to end on top of them.
/// </summary>
/// <remarks>
/// Features are computed per variant (plain, mirrored) in chunks of the entries the store lacks, in image order
/// (for the memory store: all of them), never in the shuffled training batches; so their values do not depend on the
/// shuffle, and a resumed run computes the same numbers as the run it continues.
/// </remarks>
internal sealed class PriorFeatureCache
{
    private const int ChunkSize = 16;

    private readonly IPriorFeatureStore _store;
    private readonly int _tokens;
    private readonly int _width;

    private PriorFeatureCache(IPriorFeatureStore store, int tokens)
    {
        _store = store;
        _tokens = tokens;
        _width = store.FeatureLength / tokens;
    }

    /// <summary>Fills <paramref name="store"/> with whatever it lacks for <paramref name="images"/>.</summary>
    /// <param name="source">Computes the missing entries.</param>
    /// <param name="images">The images, in the store's order.</param>
    /// <param name="withMirrors">Whether mirror images are stored too.</param>
    /// <param name="store">Where the entries go.</param>
    /// <param name="tokens">Tokens per entry (the token grid squared).</param>
    /// <param name="description">What the images are, for the log.</param>
    /// <param name="log">Progress messages.</param>
    /// <param name="cancellation">Checked between chunks.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired; stored entries stay.</exception>
    public static PriorFeatureCache Fill(IPriorFeatureSource source, ImageSet images, bool withMirrors,
        IPriorFeatureStore store, int tokens, string description, Action<string> log, CancellationToken cancellation)
    {
        var cache = new PriorFeatureCache(store, tokens);

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

        log($"Computing prior features of {description}{(withMirrors ? " and their mirror images" : "")}: " +
            $"{missing:N0} of {total:N0} " +
            $"({(double)missing * store.FeatureLength * sizeof(float) / (1 << 20):N1} MiB).");
        var clock = Stopwatch.StartNew();
        var features = new float[ChunkSize * store.FeatureLength];
        int done = 0, nextReport = Math.Max(1, missing / 10);
        foreach (var (indices, mirrored) in chunks)
        {
            cancellation.ThrowIfCancellationRequested();
            QuietGarbageCollector.Run(() =>
            {
                source.Compute(images, indices, mirrored, features);
                return indices.Length;
            });
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
}
