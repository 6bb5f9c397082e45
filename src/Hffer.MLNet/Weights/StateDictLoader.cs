using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Weights;

/// <summary>Copies checkpoint tensors into a module by name and shape and reports what happened.</summary>
internal static class StateDictLoader
{
    /// <summary>
    /// Loads every entry of <paramref name="checkpoint"/> whose name and shape match an entry of
    /// <paramref name="target"/>'s state dict. Entries for which <paramref name="ignore"/> is true are skipped.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// <paramref name="strict"/> is set and an entry is missing, unexpected or mis-shaped; nothing is copied then.
    /// </exception>
    public static WeightLoadReport Load(nn.Module target, IReadOnlyDictionary<string, Tensor> checkpoint, bool strict,
        Func<string, bool> ignore, string source, string targetName)
    {
        var state = target.state_dict();
        var matched = new List<string>();
        var mismatched = new List<ShapeMismatch>();
        var ignored = checkpoint.Keys.Where(ignore).Order(StringComparer.Ordinal).ToList();
        var unexpected = checkpoint.Keys.Where(k => !ignore(k) && !state.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var missing = state.Keys.Where(k => !checkpoint.ContainsKey(k)).ToList();

        foreach (var (key, parameter) in state)
        {
            if (!checkpoint.TryGetValue(key, out var value))
                continue;
            if (!parameter.shape.SequenceEqual(value.shape))
                mismatched.Add(new ShapeMismatch(key, parameter.shape, value.shape));
            else
                matched.Add(key);
        }

        var report = new WeightLoadReport
        {
            Source = source, Target = targetName, Matched = matched, Missing = missing, Unexpected = unexpected,
            ShapeMismatched = mismatched, Ignored = ignored,
        };
        if (strict && !report.IsExact)
            throw new InvalidDataException($"The checkpoint does not fit the {targetName} branch (strict loading). {report}");

        using (no_grad())
        {
            foreach (string key in matched)
                state[key].copy_(checkpoint[key].to(state[key].dtype));
        }
        return report;
    }
}
