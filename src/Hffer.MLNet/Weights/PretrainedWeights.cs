using Hffer.MLNet.Modeling;

namespace Hffer.MLNet.Weights;

/// <summary>Loads the official DINOv2 and IR50 checkpoints into the two branches of an <see cref="HfferNetwork"/>.</summary>
internal static class PretrainedWeights
{
    /// <summary>
    /// Loads a DINOv2 ViT checkpoint (hub <c>.pth</c> or Hugging Face <c>.safetensors</c>) into
    /// <paramref name="vit"/>. The positional table keeps its trained 37x37 grid; it is resized to the input's patch
    /// grid once, on the first forward pass after loading (and again for the export).
    /// </summary>
    public static WeightLoadReport LoadDinov2(Dinov2VisionTransformer vit, string path, bool strict)
    {
        var entries = Dinov2CheckpointMap.ToHub(CheckpointReader.Read(path));
        var report = StateDictLoader.Load(vit, entries, strict, _ => false, path, "dinov2");
        vit.ForgetPositionTables();
        return report;
    }

    /// <summary>Loads POSTER's IR50 checkpoint into <paramref name="ir50"/>.</summary>
    public static WeightLoadReport LoadIr50(Ir50 ir50, string path, IReadOnlyList<int> stageUnits, bool strict)
    {
        var entries = Ir50CheckpointMap.ToOurs(CheckpointReader.Read(path), stageUnits);
        return StateDictLoader.Load(ir50, entries, strict, Ir50CheckpointMap.Ignored(ir50.Units.Count), path, "ir50");
    }
}
