using Hffer.MLNet.Modeling;
using TorchSharp.Modules;

namespace Hffer.MLNet.Onnx;

/// <summary>Emits <see cref="Ir50"/>: the half-size subsampling, the input layer and every residual unit.</summary>
internal static class Ir50Emitter
{
    public static string Emit(OnnxGraphBuilder graph, Ir50 ir50, string image, int imageSize, string prefix)
    {
        // Nearest-neighbour resizing by exactly one half keeps pixels 0, 2, 4, ...; a strided slice says so exactly.
        if (imageSize != 2 * ir50.InputSize)
            throw new NotSupportedException(
                $"The IR50 branch export supports exactly halving the input ({imageSize} -> {ir50.InputSize}).");
        string x = graph.Slice(image, [0, 0], [imageSize, imageSize], [2, 3], [2, 2]);

        x = graph.Conv(x, (Conv2d)ir50.input_layer[0], $"{prefix}.input_layer.0", stride: 1, padding: 1);
        x = graph.BatchNorm(x, (BatchNorm2d)ir50.input_layer[1], $"{prefix}.input_layer.1");
        x = graph.PRelu(x, (PReLU)ir50.input_layer[2], $"{prefix}.input_layer.2");

        for (int i = 0; i < ir50.Units.Count; i++)
            x = EmitUnit(graph, ir50.Units[i], x, $"{prefix}.body.{i}");
        return x;
    }

    private static string EmitUnit(OnnxGraphBuilder graph, BottleneckIR unit, string x, string prefix)
    {
        var res = unit.res_layer;
        string branch = graph.BatchNorm(x, (BatchNorm2d)res[0], $"{prefix}.res_layer.0");
        branch = graph.Conv(branch, (Conv2d)res[1], $"{prefix}.res_layer.1", stride: 1, padding: 1);
        branch = graph.PRelu(branch, (PReLU)res[2], $"{prefix}.res_layer.2");
        branch = graph.Conv(branch, (Conv2d)res[3], $"{prefix}.res_layer.3", stride: unit.Stride, padding: 1);
        branch = graph.BatchNorm(branch, (BatchNorm2d)res[4], $"{prefix}.res_layer.4");

        string shortcut;
        if (unit.HasIdentityShortcut)
        {
            shortcut = graph.Node("MaxPool", [x],
            [
                OnnxAttribute.Of("kernel_shape", 1L, 1L),
                OnnxAttribute.Of("strides", (long)unit.Stride, unit.Stride),
            ]);
        }
        else
        {
            var layer = (Sequential)unit.shortcut_layer;
            shortcut = graph.Conv(x, (Conv2d)layer[0], $"{prefix}.shortcut_layer.0", stride: unit.Stride, padding: 0);
            shortcut = graph.BatchNorm(shortcut, (BatchNorm2d)layer[1], $"{prefix}.shortcut_layer.1");
        }

        return graph.Add(branch, shortcut);
    }
}
