using System.Text;

namespace Hffer.MLNet.Weights;

/// <summary>A checkpoint entry whose shape differs from the parameter of the same name.</summary>
/// <param name="Key">The parameter name (after key mapping).</param>
/// <param name="Expected">Shape of the network's parameter.</param>
/// <param name="Actual">Shape found in the checkpoint.</param>
public sealed record ShapeMismatch(string Key, long[] Expected, long[] Actual)
{
    /// <inheritdoc />
    public override string ToString() => $"{Key}: network [{string.Join(", ", Expected)}], checkpoint [{string.Join(", ", Actual)}]";
}

/// <summary>What loading one checkpoint into one branch of the network did.</summary>
public sealed record WeightLoadReport
{
    /// <summary>The checkpoint file.</summary>
    public required string Source { get; init; }

    /// <summary>The branch it was loaded into ("dinov2", "ir50").</summary>
    public required string Target { get; init; }

    /// <summary>Parameters and buffers copied from the checkpoint.</summary>
    public required IReadOnlyList<string> Matched { get; init; }

    /// <summary>Network entries the checkpoint does not have (they keep their initial values).</summary>
    public required IReadOnlyList<string> Missing { get; init; }

    /// <summary>Checkpoint entries with no network entry of that name.</summary>
    public required IReadOnlyList<string> Unexpected { get; init; }

    /// <summary>Entries present in both with different shapes (not copied).</summary>
    public required IReadOnlyList<ShapeMismatch> ShapeMismatched { get; init; }

    /// <summary>Checkpoint entries deliberately left out (for example IR50's unused output layer).</summary>
    public required IReadOnlyList<string> Ignored { get; init; }

    /// <summary>True when every network entry was loaded and nothing unexpected was found.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && ShapeMismatched.Count == 0;

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder($"{Target} <- {Path.GetFileName(Source)}: {Matched.Count} loaded, ")
            .Append($"{Missing.Count} missing, {Unexpected.Count} unexpected, {ShapeMismatched.Count} mis-shaped, ")
            .Append($"{Ignored.Count} ignored");
        foreach (var mismatch in ShapeMismatched.Take(5))
            text.Append("; ").Append(mismatch);
        if (Missing.Count > 0)
            text.Append("; missing ").Append(string.Join(", ", Missing.Take(5)));
        if (Unexpected.Count > 0)
            text.Append("; unexpected ").Append(string.Join(", ", Unexpected.Take(5)));
        return text.ToString();
    }
}
