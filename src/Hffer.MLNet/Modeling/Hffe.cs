using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// Hierarchical feature fusion enhancement (HFFE, HFFER section 3.3, from HAFNet): spatial attention per branch,
/// single-channel weight maps (SWM) that calibrate each branch, a coordinate-attention fusion map, and a 1x1
/// convolution over both enhanced branches.
/// </summary>
/// <remarks>
/// Inputs are two maps of the same size and width: slot "ir" (X_ir, or the IR-attended stream) and slot "do"
/// (X_do, or the DINOv2-attended stream). Resolution A5 of the reference notes: X' = CBR3(S_att(X)),
/// SWM = sigmoid(conv1x1(CBR1(X'))), X'' = X * SWM of the same branch (or the other branch when crossed),
/// SWM_fuse = sigmoid(CA(conv1x1([X''_ir, X''_do]))), out = conv1x1([SWM_fuse * CBR1(X'_ir + X_ir),
/// SWM_fuse * CBR1(X'_do + X_do)]).
/// </remarks>
internal sealed class Hffe : Module<Tensor, Tensor, Tensor>
{
    internal readonly SpatialAttention sa_ir;
    internal readonly SpatialAttention sa_do;
    internal readonly ConvBnRelu? cbr3_ir;
    internal readonly ConvBnRelu? cbr3_do;
    internal readonly Sequential swm_ir;
    internal readonly Sequential swm_do;
    internal readonly Conv2d fuse_conv;
    internal readonly CoordinateAttention coord_att;
    internal readonly ConvBnRelu cbr1_ir;
    internal readonly ConvBnRelu cbr1_do;
    internal readonly Conv2d out_conv;

    public Hffe(HfferArchitecture architecture) : base(nameof(Hffe))
    {
        int width = architecture.FusionDim;
        int reduced = width / architecture.HffeSwmReduction;
        Crossed = architecture.HffeCrossedCalibration;

        sa_ir = new SpatialAttention();
        sa_do = new SpatialAttention();
        if (architecture.HffeUseCbr3)
        {
            cbr3_ir = new ConvBnRelu(width, width, 3);
            cbr3_do = new ConvBnRelu(width, width, 3);
        }
        swm_ir = Sequential(new ConvBnRelu(width, reduced, 1), Conv2d(reduced, 1, kernel_size: 1, bias: true));
        swm_do = Sequential(new ConvBnRelu(width, reduced, 1), Conv2d(reduced, 1, kernel_size: 1, bias: true));
        fuse_conv = Conv2d(2 * width, width, kernel_size: 1, bias: true);
        coord_att = new CoordinateAttention(width, architecture.CoordinateAttentionReduction);
        cbr1_ir = new ConvBnRelu(width, width, 1);
        cbr1_do = new ConvBnRelu(width, width, 1);
        out_conv = Conv2d(2 * width, width, kernel_size: 1, bias: true);

        RegisterComponents();
    }

    /// <summary>Whether each branch is calibrated by the other branch's weight map.</summary>
    public bool Crossed { get; }

    public override Tensor forward(Tensor ir, Tensor dino)
    {
        using var scope = NewDisposeScope();

        var attendedIr = Enhance(sa_ir, cbr3_ir, ir);
        var attendedDo = Enhance(sa_do, cbr3_do, dino);
        var weightIr = swm_ir.call(attendedIr).sigmoid();
        var weightDo = swm_do.call(attendedDo).sigmoid();

        var calibratedIr = ir * (Crossed ? weightDo : weightIr);
        var calibratedDo = dino * (Crossed ? weightIr : weightDo);
        var fuseWeight = coord_att.call(fuse_conv.call(cat([calibratedIr, calibratedDo], 1))).sigmoid();

        var enhancedIr = fuseWeight * cbr1_ir.call(attendedIr + ir);
        var enhancedDo = fuseWeight * cbr1_do.call(attendedDo + dino);
        return out_conv.call(cat([enhancedIr, enhancedDo], 1)).MoveToOuterDisposeScope();
    }

    private static Tensor Enhance(SpatialAttention attention, ConvBnRelu? cbr3, Tensor map)
    {
        var attended = attention.call(map);
        return cbr3 is null ? attended : cbr3.call(attended);
    }
}
