namespace Hffer.MLNet.Scoring;

/// <summary>
/// Where the deepest fusion module looked in one image: its cross-attention weights over each branch's token grid,
/// averaged over heads and over the fused tokens that ask. Each map covers the whole face, row by row from the top,
/// and sums to 1 over its cells. Ask for them with <see cref="HfferBatchScoringOptions.IncludeAttentionMaps"/>.
/// </summary>
/// <remarks>
/// These are attention weights, not a causal explanation: a cell the fusion attends to is one whose features it
/// reads, which need not be what changed the prediction. The grid is coarse (7 x 7 for the paper preset, 4 x 4 for
/// the small one), so the maps show regions such as eyes or mouth, not fine detail.
/// </remarks>
public sealed class HfferAttentionMaps
{
    internal HfferAttentionMaps(int gridSize, float[] ir50, float[] frozenBranch)
    {
        GridSize = gridSize;
        Ir50 = ir50;
        FrozenBranch = frozenBranch;
    }

    /// <summary>Cells per side of both maps.</summary>
    public int GridSize { get; }

    /// <summary>Weights over the IR50 branch's tokens, <see cref="GridSize"/> squared of them, row-major.</summary>
    public IReadOnlyList<float> Ir50 { get; }

    /// <summary>
    /// Weights over the frozen branch's tokens (DINOv2, or the ONNX prior that stands in for it), row-major.
    /// </summary>
    public IReadOnlyList<float> FrozenBranch { get; }

    /// <summary>
    /// Averages [count, heads, queries, keys] attention weights over heads and queries into one map per image.
    /// </summary>
    internal static float[][] Average(ReadOnlySpan<float> weights, int count, int heads, int queries, int keys)
    {
        var maps = new float[count][];
        for (int image = 0; image < count; image++)
        {
            var map = new double[keys];
            var perImage = weights.Slice(image * heads * queries * keys, heads * queries * keys);
            for (int row = 0; row < heads * queries; row++)
            {
                var rowWeights = perImage.Slice(row * keys, keys);
                for (int key = 0; key < keys; key++)
                    map[key] += rowWeights[key];
            }
            maps[image] = map.Select(total => (float)(total / (heads * queries))).ToArray();
        }
        return maps;
    }
}
