using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Hffer.MLNet.Weights;

/// <summary>
/// Brings POSTER's <c>ir50.pth</c> (MS-Celeb-1M IR-50) to our key layout the way POSTER's loader does: a
/// <c>state_dict</c> wrapper is unwrapped by the reader, a leading <c>module.</c> is stripped, and POSTER++'s
/// <c>body1/2/3</c> names are re-keyed to <c>body.N</c>. The unused <c>output_layer.*</c> and any stage-4 units
/// beyond the built ones are ignored and reported.
/// </summary>
internal static partial class Ir50CheckpointMap
{
    public static Dictionary<string, Tensor> ToOurs(IReadOnlyDictionary<string, Tensor> entries, IReadOnlyList<int> stageUnits)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            string name = key.StartsWith("module.", StringComparison.Ordinal) ? key["module.".Length..] : key;
            var split = SplitBody().Match(name);
            if (split.Success)
            {
                int stage = int.Parse(split.Groups["stage"].Value) - 1;
                int offset = stageUnits.Take(Math.Min(stage, stageUnits.Count)).Sum();
                name = $"body.{offset + int.Parse(split.Groups["unit"].Value)}.{split.Groups["rest"].Value}";
            }
            result[name] = value;
        }
        return result;
    }

    /// <summary>Entries POSTER builds or ships but never runs: the output layer and units past stage 3.</summary>
    public static Func<string, bool> Ignored(int builtUnits) => key =>
        key.StartsWith("output_layer.", StringComparison.Ordinal) ||
        (BodyUnit().Match(key) is { Success: true } unit && int.Parse(unit.Groups["unit"].Value) >= builtUnits);

    [GeneratedRegex(@"^body(?<stage>[1-4])\.(?<unit>\d+)\.(?<rest>.+)$")]
    private static partial Regex SplitBody();

    [GeneratedRegex(@"^body\.(?<unit>\d+)\.")]
    private static partial Regex BodyUnit();
}
