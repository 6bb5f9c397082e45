using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Hffer.MLNet.Data;

/// <summary>One face of the FER-2013 CSV, decoded to an image.</summary>
public sealed class Fer2013CsvRow
{
    /// <summary>The 48x48 face (grey values in all three colour channels).</summary>
    [ImageType(Fer2013CsvReader.Side, Fer2013CsvReader.Side)]
    public MLImage? Image { get; set; }

    /// <summary>Class name from the emotion code (see <see cref="ExpressionClasses.Fer2013"/>).</summary>
    public string Label { get; set; } = "";

    /// <summary>The row's <c>Usage</c>: Training, PublicTest or PrivateTest.</summary>
    public string Usage { get; set; } = "";
}
