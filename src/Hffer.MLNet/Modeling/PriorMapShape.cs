namespace Hffer.MLNet.Modeling;

/// <summary>The feature map an ONNX prior yields per image: channels x height x width.</summary>
internal sealed record PriorMapShape(int Channels, int Height, int Width)
{
    public int Length => Channels * Height * Width;
}
