using System.Reflection;
using Microsoft.ML;

namespace Hffer.MLNet;

/// <summary>
/// Describes a <see cref="DataViewSchema"/> as <see cref="SchemaShape"/> columns. ML.NET keeps both the factory and
/// the column constructor internal, so its factory is called by reflection.
/// </summary>
internal static class SchemaShapes
{
    private static readonly MethodInfo? s_create = typeof(SchemaShape).GetMethod("Create",
        BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, [typeof(DataViewSchema)]);

    public static SchemaShape From(DataViewSchema schema) =>
        s_create?.Invoke(null, [schema]) as SchemaShape
        ?? throw new NotSupportedException(
            "This ML.NET version has no SchemaShape.Create(DataViewSchema); GetOutputSchema cannot describe HFFER's columns.");
}
