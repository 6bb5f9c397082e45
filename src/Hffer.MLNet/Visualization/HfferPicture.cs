namespace Hffer.MLNet.Visualization;

/// <summary>A PNG picture this package wrote.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public sealed record HfferPicture(string Path, int Width, int Height);
