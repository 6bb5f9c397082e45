namespace Hffer.MLNet.Scoring;

/// <summary>One image's prediction from <see cref="HfferBatchScorer"/>.</summary>
/// <param name="PredictedLabel">The most probable class's name.</param>
/// <param name="PredictedIndex">Its index in <see cref="HfferTransformer.ClassNames"/>.</param>
/// <param name="Score">
/// Probabilities in <see cref="HfferTransformer.ClassNames"/> order; each prediction owns its array, so record
/// equality compares it by reference (compare with <c>SequenceEqual</c>).
/// </param>
public sealed record HfferPrediction(string PredictedLabel, int PredictedIndex, float[] Score)
{
    /// <summary>
    /// Where the fusion looked in each branch; null unless <see cref="HfferBatchScoringOptions.IncludeAttentionMaps"/>
    /// was set.
    /// </summary>
    public HfferAttentionMaps? AttentionMaps { get; init; }

    /// <summary>
    /// With <see cref="HfferBatchScoringOptions.SkipUnreadableImages"/>: why this image could not be read (the file
    /// or row is named). Such a prediction keeps its place in the order but has no scores: <see cref="Score"/> is
    /// empty, <see cref="PredictedIndex"/> is -1 and <see cref="PredictedLabel"/> is empty. Null for scored images.
    /// </summary>
    public string? Error { get; init; }

    /// <summary>Unreadable, in <paramref name="reason"/>'s words.</summary>
    internal static HfferPrediction Unreadable(string reason) => new("", -1, []) { Error = reason };
}
