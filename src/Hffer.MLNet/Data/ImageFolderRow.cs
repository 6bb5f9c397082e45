namespace Hffer.MLNet.Data;

/// <summary>One image of a labelled dataset: its file path and its class name.</summary>
public sealed class ImageFolderRow
{
    /// <summary>Full path of the image file.</summary>
    public string ImagePath { get; set; } = "";

    /// <summary>Class name (the name of the folder the image is in).</summary>
    public string Label { get; set; } = "";
}
