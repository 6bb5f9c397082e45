// Usage: Hffer.MLNet.ScoringProbe <model.zip> <images.txt> <scores.txt>
// images.txt holds "path<TAB>label" lines; scores.txt receives one line per image: the predicted key and the
// scores as round-trip floats, so the caller can compare them exactly.

using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

var ml = new MLContext();
var model = ml.Model.Load(args[0], out _);
var rows = File.ReadAllLines(args[1]).Select(line => line.Split('\t'))
    .Select(parts => new ProbeRow { ImagePath = parts[0], Label = parts[1] });
var scored = model.Transform(ml.Data.LoadFromEnumerable(rows));

var keys = scored.GetColumn<uint>("PredictedLabel").ToArray();
var scores = scored.GetColumn<float[]>("Score").ToArray();
File.WriteAllLines(args[2], keys.Zip(scores, (key, row) =>
    key.ToString(CultureInfo.InvariantCulture) + " " +
    string.Join(" ", row.Select(s => s.ToString("R", CultureInfo.InvariantCulture)))));

internal sealed class ProbeRow
{
    public string ImagePath { get; set; } = "";

    public string Label { get; set; } = "";
}
