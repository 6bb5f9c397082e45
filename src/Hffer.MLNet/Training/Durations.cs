using System.Globalization;

namespace Hffer.MLNet.Training;

/// <summary>Formats training times as hours:minutes:seconds, without wrapping after a day.</summary>
internal static class Durations
{
    public static string Format(TimeSpan duration) => string.Create(CultureInfo.InvariantCulture,
        $"{(int)duration.TotalHours}:{duration.Minutes:00}:{duration.Seconds:00}");
}
