using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// The whole HFFER network: IR50 and frozen DINOv2 branches brought to one token grid, the stack of bidirectional
/// fusion modules, and a LayerNorm, mean-pool, linear classifier. Input is the ImageNet-normalized RGB image
/// [B, 3, S, S]; output is class logits [B, classes]. With an ONNX prior there is no DINOv2 module: the prior's
/// pooled tokens come from outside and a trainable linear projection (<c>prior_proj</c>) brings them to the fusion
/// width.
/// </summary>
/// <remarks>
/// Resolution A1 of the reference notes: X_ir = conv1x1(conv3x3 stride 2(IR50 stage 3)), the path POSTER++ uses
/// for its third scale; X_do = adaptive average pooling of the DINOv2 patch map to the same grid, without a
/// projection. The DINOv2 branch never trains: its parameters have gradients switched off, it runs under no-grad
/// and stays in evaluation mode when the rest of the network trains.
/// </remarks>
internal sealed class HfferNetwork : Module<Tensor, Tensor>
{
    internal readonly Ir50 ir50;
    internal readonly Dinov2VisionTransformer? dinov2;
    internal readonly Linear? prior_proj;
    internal readonly Conv2d ir_conv;
    internal readonly Conv2d ir_embed;
    internal readonly Parameter? pos_embed_ir;
    internal readonly Parameter? pos_embed_do;
    internal readonly ModuleList<FusionModule> fusion;
    internal readonly Hffe? hffe;
    internal readonly LayerNorm norm;
    internal readonly Linear head;

    /// <param name="architecture">The network's sizes.</param>
    /// <param name="classCount">Number of classes.</param>
    /// <param name="priorMap">The ONNX prior's map shape; null builds the TorchSharp DINOv2 branch.</param>
    public HfferNetwork(HfferArchitecture architecture, int classCount, PriorMapShape? priorMap = null)
        : base(nameof(HfferNetwork))
    {
        architecture.Validate();
        if (classCount < 2)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "HFFER needs at least two classes.");

        Architecture = architecture;
        ClassCount = classCount;
        PriorMap = priorMap;
        int dim = architecture.FusionDim, tokens = architecture.TokenGrid * architecture.TokenGrid;
        int irChannels = architecture.Ir50StageChannels[^1];

        ir50 = new Ir50(architecture);
        if (priorMap is null)
            dinov2 = new Dinov2VisionTransformer(architecture);
        else
            prior_proj = Linear(priorMap.Channels, dim, hasBias: true);
        ir_conv = Conv2d(irChannels, irChannels, kernel_size: 3, stride: 2, padding: 1, bias: true);
        ir_embed = Conv2d(irChannels, dim, kernel_size: 1, bias: true);
        if (architecture.UseTokenPositionEmbeddings)
        {
            pos_embed_ir = new Parameter(randn(1, tokens, dim) * 0.02);
            pos_embed_do = new Parameter(randn(1, tokens, dim) * 0.02);
        }

        int depth = architecture.FusionModules;
        fusion = new ModuleList<FusionModule>(Enumerable.Range(0, depth)
            .Select(i => new FusionModule(architecture, depth == 1 ? 0 : architecture.DropPathRate * i / (depth - 1)))
            .ToArray());
        if (architecture.HffePlacement == HffePlacement.AfterStack)
            hffe = new Hffe(architecture);
        norm = LayerNorm(dim, FusionModule.NormEpsilon);
        head = Linear(dim, classCount, hasBias: true);

        RegisterComponents();

        foreach (var parameter in dinov2?.parameters() ?? [])
            parameter.requires_grad = false;
    }

    public HfferArchitecture Architecture { get; }

    public int ClassCount { get; }

    /// <summary>The ONNX prior's map shape; null when the prior is the DINOv2 branch inside this network.</summary>
    public PriorMapShape? PriorMap { get; }

    /// <summary>The parameters the optimizer updates (everything but the frozen DINOv2 branch).</summary>
    public IEnumerable<Parameter> TrainableParameters() => parameters().Where(p => p.requires_grad);

    /// <summary>State-dict key prefix of the frozen branch.</summary>
    public const string FrozenPrefix = nameof(dinov2) + ".";

    /// <summary>The state-dict entries that training can change: everything outside the frozen branch.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> TrainableState() =>
        state_dict().Where(e => !e.Key.StartsWith(FrozenPrefix, StringComparison.Ordinal));

    public override Tensor forward(Tensor image)
    {
        using var prior = PriorTokens(image);
        return Classify(image, prior);
    }

    /// <summary>
    /// The frozen branch's tokens X_do [B, grid², dim] for normalized images: DINOv2 patch map pooled to the token
    /// grid, before the trainable positional embedding. They never depend on training, which is what lets the
    /// trainer cache them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The prior is an ONNX model outside the network.</exception>
    public Tensor PriorTokens(Tensor image)
    {
        if (dinov2 is null)
            throw new InvalidOperationException("This network's prior is an ONNX model; its tokens come from outside.");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int grid = Architecture.TokenGrid;
        return Tokens.FromMap(nn.functional.adaptive_avg_pool2d(dinov2.call(image), [grid, grid]))
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Logits for normalized images given the frozen branch's tokens of the same images (from
    /// <see cref="PriorTokens"/>, possibly of a differently augmented copy of them, or the ONNX prior's pooled map
    /// [B, grid², C]).
    /// </summary>
    public Tensor Classify(Tensor image, Tensor priorTokens)
    {
        using var scope = NewDisposeScope();
        int grid = Architecture.TokenGrid;

        var ir = Tokens.FromMap(ir_embed.call(ir_conv.call(ir50.call(image))));
        var dino = prior_proj?.call(priorTokens) ?? priorTokens;
        if (pos_embed_ir is not null && pos_embed_do is not null)
        {
            ir = ir + pos_embed_ir;
            dino = dino + pos_embed_do;
        }

        var fused = ir;
        foreach (var module in fusion)
            fused = module.call(fused, ir, dino);
        if (hffe is not null)
            fused = Tokens.FromMap(hffe.call(Tokens.ToMap(fused, grid), Tokens.ToMap(dino, grid)));

        return head.call(norm.call(fused).mean([1])).MoveToOuterDisposeScope();
    }

    public override void train(bool on = true)
    {
        base.train(on);

        // The prior is frozen: it keeps evaluation behaviour even while the trainable part trains.
        dinov2?.eval();
    }
}
