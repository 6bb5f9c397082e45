using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Hffer.MLNet.Tests.Packaging;

/// <summary>
/// Turns a Polyglot notebook's C# cells into one top-level program, so CI compiles and runs what the notebook runs.
/// Package directives (<c>#r</c>, <c>#i</c>) become the project's package references; namespace imports move to the
/// top; <c>display</c> and <c>HTML</c>, which .NET Interactive provides, print to the console.
/// </summary>
internal static partial class NotebookProgram
{
    public static string FromNotebook(string notebookPath)
    {
        using var notebook = JsonDocument.Parse(File.ReadAllText(notebookPath));
        var imports = new List<string>();
        var body = new StringBuilder();
        int cellNumber = 0;
        foreach (var cell in notebook.RootElement.GetProperty("cells").EnumerateArray())
        {
            cellNumber++;
            if (cell.GetProperty("cell_type").GetString() != "code")
                continue;
            string language = cell.GetProperty("metadata").GetProperty("dotnet_interactive").GetProperty("language")
                .GetString()!;
            Assert.True(language == "csharp",
                $"Cell {cellNumber} of {notebookPath} is {language}; only C# cells can be checked.");

            body.AppendLine($"// cell {cellNumber}");
            string source = string.Concat(cell.GetProperty("source").EnumerateArray().Select(line => line.GetString()));
            foreach (string line in source.Split('\n'))
            {
                if (line.StartsWith("#r ", StringComparison.Ordinal) || line.StartsWith("#i ", StringComparison.Ordinal))
                    continue;
                if (ImportDirective().IsMatch(line))
                    imports.Add(line.Trim());
                else
                    body.AppendLine(line);
            }
        }

        return string.Join('\n', imports.Distinct()) + "\n\n" + body + """

            static void display(object? value) => Console.WriteLine(value);
            static string HTML(string html) => $"[HTML, {html.Length} characters]";
            """;
    }

    /// <summary>The packages and versions the notebook's <c>#r "nuget: ..."</c> directives name.</summary>
    public static IReadOnlyDictionary<string, string> PackageDirectives(string notebookPath)
    {
        var packages = new Dictionary<string, string>();
        foreach (Match directive in PackageDirective().Matches(File.ReadAllText(notebookPath)))
            packages[directive.Groups[1].Value] = directive.Groups[2].Value;
        return packages;
    }

    [GeneratedRegex(@"#r \\""nuget: ([A-Za-z0-9_.-]+), ([0-9A-Za-z.-]+)\\""")]
    private static partial Regex PackageDirective();

    [GeneratedRegex(@"^using (static )?[A-Za-z_][A-Za-z0-9_.]*( = [A-Za-z0-9_.<>]+)?;\s*$")]
    private static partial Regex ImportDirective();
}
