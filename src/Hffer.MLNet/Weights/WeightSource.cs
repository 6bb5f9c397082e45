namespace Hffer.MLNet.Weights;

/// <summary>Where a pretrained checkpoint can be downloaded from.</summary>
/// <param name="Url">The public address of the file.</param>
/// <param name="FileName">Name of the file in the cache folder.</param>
/// <param name="Sha256">Expected SHA-256 (hex), or null when the publisher gives none; then only size is checked.</param>
public sealed record WeightSource(Uri Url, string FileName, string? Sha256 = null)
{
    /// <summary>
    /// The official torch.hub DINOv2 ViT-B/14 weights (no registers). Meta publishes no checksum for this file, so
    /// pass one you trust with <c>this with { Sha256 = ... }</c> to have it verified.
    /// </summary>
    public static WeightSource Dinov2VitB14Hub { get; } =
        new(new Uri("https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_pretrain.pth"),
            "dinov2_vitb14_pretrain.pth");
}
