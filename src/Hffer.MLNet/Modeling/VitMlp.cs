using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>Two-layer perceptron with exact (erf) GELU; keys <c>fc1</c>, <c>fc2</c>.</summary>
internal sealed class VitMlp : Module<Tensor, Tensor>
{
    internal readonly Linear fc1;
    internal readonly Linear fc2;

    public VitMlp(int dim, int hidden) : base(nameof(VitMlp))
    {
        fc1 = Linear(dim, hidden, hasBias: true);
        fc2 = Linear(hidden, dim, hasBias: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        using var hidden = fc1.call(tokens);
        using var activated = nn.functional.gelu(hidden);
        return fc2.call(activated);
    }
}
