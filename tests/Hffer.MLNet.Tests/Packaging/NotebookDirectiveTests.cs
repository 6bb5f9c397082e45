using System.Xml.Linq;

namespace Hffer.MLNet.Tests.Packaging;

/// <summary>
/// The notebooks' <c>#r "nuget: ..."</c> directives, which the extracted programs replace with project references,
/// name the versions this repository builds and tests with.
/// </summary>
public class NotebookDirectiveTests
{
    [Theory]
    [InlineData("01-quickstart.ipynb")]
    [InlineData("02-evaluate-and-visualise.ipynb")]
    public void PackageDirectivesNameTheRepositorysVersions(string notebook)
    {
        string root = TestData.FolderAbove("Hffer.MLNet.sln");
        var central = XDocument.Load(Path.Combine(root, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(p => p.Attribute("Include")!.Value, p => p.Attribute("Version")!.Value);
        string libraryVersion = XDocument.Load(Path.Combine(root, "src", "Hffer.MLNet", "Hffer.MLNet.csproj"))
            .Descendants("Version").Single().Value;

        var directives = NotebookProgram.PackageDirectives(Path.Combine(root, "samples", "notebooks", notebook));

        Assert.Equal(libraryVersion, directives["Hffer.MLNet"]);
        Assert.Equal(central["TorchSharp-cpu"], directives["TorchSharp-cpu"]);
        Assert.Equal(central["Microsoft.ML.OnnxRuntime"], directives["Microsoft.ML.OnnxRuntime"]);
        Assert.Equal(3, directives.Count);
    }
}
