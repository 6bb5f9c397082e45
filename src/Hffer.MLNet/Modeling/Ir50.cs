using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// The trainable face branch: IR50 stages 1-3 as POSTER builds them (Deng et al. ArcFace's IR-50, face.evoLVe
/// layout), fed with the normalized image resized to half its size by nearest-neighbour sampling.
/// </summary>
/// <remarks>
/// Keys match POSTER's <c>ir50.pth</c>: <c>input_layer.{0,1,2}.*</c> and <c>body.{0..20}.*</c>. POSTER also
/// builds an <c>output_layer</c> that its forward never uses; it is not built here, and a checkpoint's
/// <c>output_layer.*</c> entries are ignored by the loader.
/// </remarks>
internal sealed class Ir50 : Module<Tensor, Tensor>
{
    internal readonly Sequential input_layer;
    internal readonly Sequential body;

    public Ir50(HfferArchitecture architecture) : base(nameof(Ir50))
    {
        InputSize = architecture.Ir50InputSize;
        input_layer = Sequential(
            Conv2d(3, architecture.Ir50StemChannels, kernel_size: 3, stride: 1, padding: 1, bias: false),
            BatchNorm2d(architecture.Ir50StemChannels),
            PReLU(architecture.Ir50StemChannels));

        var units = new List<BottleneckIR>();
        int inChannels = architecture.Ir50StemChannels;
        for (int stage = 0; stage < architecture.Ir50StageUnits.Count; stage++)
        {
            int depth = architecture.Ir50StageChannels[stage];
            for (int unit = 0; unit < architecture.Ir50StageUnits[stage]; unit++)
            {
                units.Add(new BottleneckIR(unit == 0 ? inChannels : depth, depth, stride: unit == 0 ? 2 : 1));
            }
            inChannels = depth;
        }
        Units = units;
        body = Sequential(units.Select(u => (Module<Tensor, Tensor>)u));

        RegisterComponents();
    }

    /// <summary>Side of the image the branch sees (the network input is subsampled to it).</summary>
    public int InputSize { get; }

    public IReadOnlyList<BottleneckIR> Units { get; }

    /// <summary>Takes the normalized full-size image and returns the stage-3 map.</summary>
    public override Tensor forward(Tensor image)
    {
        // POSTER calls F.interpolate(x, size=112) with the default nearest mode; for an exact factor of two that
        // keeps every other pixel starting at the first, which the ONNX export reproduces with a strided slice.
        using var resized = nn.functional.interpolate(image, size: [InputSize, InputSize],
            mode: InterpolationMode.Nearest);
        return body.call(input_layer.call(resized));
    }
}
