namespace Hffer.MLNet.Training;

/// <summary>Where <c>Fit</c> keeps the frozen DINOv2 branch's features between epochs.</summary>
public enum FeatureCacheMode
{
    /// <summary>
    /// Computed once per image (and once for its mirror image when flipping is on) at the start of <c>Fit</c> and held
    /// in memory: 4 x tokens x width bytes per variant (301 KB per image with mirrors for the paper preset).
    /// </summary>
    Memory,

    /// <summary>
    /// Kept in files under <see cref="HfferOptions.FeatureCacheDirectory"/>, named by the image's content and the
    /// frozen weights' identity, so later <c>Fit</c> calls (a resumed run, another learning rate) skip the frozen
    /// branch entirely, and the features take no memory (the decoded images still do: 3 x size² bytes each).
    /// </summary>
    Disk,

    /// <summary>The frozen branch runs on every training step, as a plain training loop would.</summary>
    None,
}
