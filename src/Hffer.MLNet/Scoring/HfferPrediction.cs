namespace Hffer.MLNet.Scoring;

/// <summary>One image's prediction from <see cref="HfferBatchScorer"/>.</summary>
/// <param name="PredictedLabel">The most probable class's name.</param>
/// <param name="PredictedIndex">Its index in <see cref="HfferTransformer.ClassNames"/>.</param>
/// <param name="Score">Probabilities in <see cref="HfferTransformer.ClassNames"/> order.</param>
public sealed record HfferPrediction(string PredictedLabel, int PredictedIndex, float[] Score);
