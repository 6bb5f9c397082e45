namespace Hffer.MLNet.Data;

/// <summary>One class name, the row type of <see cref="HfferDataCatalog.LoadClassNames"/>.</summary>
internal sealed class ClassNameRow
{
    public string Label { get; set; } = "";
}
