namespace Hffer.MLNet;

/// <summary>Ready-made network sizes; see <see cref="Modeling.HfferArchitecture"/> for the numbers.</summary>
public enum HfferPreset
{
    /// <summary>
    /// A network with every kind of HFFER block, sized to train from scratch on a CPU in minutes (112-pixel input,
    /// 4x4 token grid). It is a demonstration and test size, not the paper's accuracy.
    /// </summary>
    Small,

    /// <summary>
    /// The published network: IR50 stages 1-3, DINOv2 ViT-B/14, 8 fusion modules, 224-pixel input, 7x7 tokens.
    /// Meant for pretrained weights and a GPU.
    /// </summary>
    Paper,
}
