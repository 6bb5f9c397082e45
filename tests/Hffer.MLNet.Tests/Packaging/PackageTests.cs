using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Hffer.MLNet.Tests.Packaging;

/// <summary>
/// The NuGet package as users get it: what it holds, a project outside the solution that restores it from a feed
/// and predicts, and the notebooks' code run against it.
/// </summary>
[Collection("Torch")]
public class PackageTests : IClassFixture<PackedLibrary>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(10);
    private readonly PackedLibrary _package;

    public PackageTests(PackedLibrary package) => _package = package;

    [Fact]
    public void PackageHoldsTheAssemblyDocsReadmeBuildStepAndSymbols()
    {
        string nupkg = Path.Combine(_package.Feed, $"Hffer.MLNet.{_package.Version}.nupkg");
        string snupkg = Path.Combine(_package.Feed, $"Hffer.MLNet.{_package.Version}.snupkg");

        using var package = ZipFile.OpenRead(nupkg);
        var entries = package.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("lib/net10.0/Hffer.MLNet.dll", entries);
        Assert.Contains("lib/net10.0/Hffer.MLNet.xml", entries);
        Assert.Contains("README.md", entries);
        Assert.Contains("LICENSE", entries);
        Assert.Contains("build/Hffer.MLNet.targets", entries);
        Assert.Contains("buildTransitive/Hffer.MLNet.targets", entries);

        // The ResNet18 ONNX files arrive through their own package; copies here once made this 119 MB.
        Assert.DoesNotContain(entries, e => e.StartsWith("content", StringComparison.Ordinal));
        Assert.InRange(new FileInfo(nupkg).Length, 100_000, 2_000_000);

        XNamespace ns = XDocument.Load(package.GetEntry("Hffer.MLNet.nuspec")!.Open()).Root!.Name.Namespace;
        var metadata = XDocument.Load(package.GetEntry("Hffer.MLNet.nuspec")!.Open()).Root!.Element(ns + "metadata")!;
        Assert.Equal(_package.Version, metadata.Element(ns + "version")!.Value);
        Assert.Equal("LICENSE", metadata.Element(ns + "license")!.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        var dependencies = metadata.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToArray();
        Assert.Contains("TorchSharp", dependencies);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Managed", dependencies);
        Assert.DoesNotContain(dependencies, d => d is "TorchSharp-cpu" or "Microsoft.ML.OnnxRuntime" or "libtorch-cpu");

        using var symbols = ZipFile.OpenRead(snupkg);
        Assert.Contains("lib/net10.0/Hffer.MLNet.pdb", symbols.Entries.Select(e => e.FullName));
    }

    [Fact]
    public void ConsumerSampleRestoresThePackageTrainsOneEpochAndPredicts()
    {
        string root = _package.NewFolder("consumer");
        _package.WriteNuGetConfig(root);
        string project = Path.Combine(root, "Hffer.MLNet.PackageConsumer");
        CopyFolder(Path.Combine(_package.RepositoryRoot, "samples", "Hffer.MLNet.PackageConsumer"), project);

        // On Debian 12 the run below trains only if the package's buildTransitive step patched TorchSharp's shim.
        DotnetCommand.Succeed(project, Long, "add", "package", "Hffer.MLNet", "--version", _package.Version);
        string output = DotnetCommand.Succeed(project, Long, "run", "--", TestData.Root);

        Assert.Contains("epoch   1/1", output);
        var prediction = Regex.Match(output, @"Prediction for (\S+) \(labelled (\w+)\): (\w+) \((\d+\.\d)");
        Assert.True(prediction.Success, output);
        Assert.Contains(prediction.Groups[3].Value, Pipelines.ShuffledClassOrder);
    }

    [Theory]
    [InlineData("01-quickstart.ipynb", "accuracy")]
    [InlineData("02-evaluate-and-visualise.ipynb", "report at")]
    public void NotebookCodeRunsTopToBottomAgainstThePackage(string notebook, string expectedOutput)
    {
        // The notebooks read ../data/fer2013-mini, so the copy keeps the samples layout.
        string samples = Path.Combine(_package.NewFolder("notebook-" + Path.GetFileNameWithoutExtension(notebook)),
            "samples");
        CopyFolder(Path.Combine(_package.RepositoryRoot, "samples", "notebooks"), Path.Combine(samples, "notebooks"));
        CopyFolder(TestData.Root, Path.Combine(samples, "data", "fer2013-mini"));
        string project = Path.Combine(samples, "notebook-program");
        Directory.CreateDirectory(project);
        _package.WriteNuGetConfig(project);
        File.WriteAllText(Path.Combine(project, "Program.cs"),
            NotebookProgram.FromNotebook(Path.Combine(samples, "notebooks", notebook)));
        File.WriteAllText(Path.Combine(project, "NotebookProgram.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <RuntimeIdentifier>$(NETCoreSdkRuntimeIdentifier)</RuntimeIdentifier>
                <SelfContained>false</SelfContained>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Hffer.MLNet" Version="{_package.Version}" />
                <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
                <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.32.0" />
              </ItemGroup>
            </Project>
            """);

        string output = DotnetCommand.Succeed(Path.Combine(samples, "notebooks"), Long, "run", "--project", project);

        Assert.Contains(expectedOutput, output);
        if (notebook.StartsWith("02", StringComparison.Ordinal))
            Assert.True(File.Exists(Path.Combine(samples, "notebooks", "output", "report", "confusion-matrix.png")));
    }

    private static void CopyFolder(string source, string destination)
    {
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(source, file);
            string first = relative.Split(Path.DirectorySeparatorChar)[0];
            if (first is "bin" or "obj" or "output")
                continue;
            string target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
