using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Hffer.MLNet;

/// <summary>
/// Reaches the environment behind an ML.NET catalog. ML.NET keeps it internal, yet it carries the context's log, seed
/// and GPU settings, which training must honour; it is found by type, so a renamed member does not break it, and a
/// fresh environment stands in if a future ML.NET hides it entirely (messages then go unseen, nothing fails).
/// </summary>
internal static class CatalogEnvironment
{
    private const BindingFlags Members = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    /// <summary>The environment of <paramref name="catalog"/>, or a fresh context when it cannot be found.</summary>
    public static IHostEnvironment Of(object catalog)
    {
        for (var type = catalog.GetType(); type is not null; type = type.BaseType)
        {
            foreach (var field in type.GetFields(Members | BindingFlags.DeclaredOnly))
                if (typeof(IHostEnvironment).IsAssignableFrom(field.FieldType)
                    && field.GetValue(catalog) is IHostEnvironment fromField)
                    return fromField;
            foreach (var property in type.GetProperties(Members | BindingFlags.DeclaredOnly))
                if (typeof(IHostEnvironment).IsAssignableFrom(property.PropertyType)
                    && property.GetIndexParameters().Length == 0
                    && property.GetValue(catalog) is IHostEnvironment fromProperty)
                    return fromProperty;
        }
        return new MLContext();
    }

    /// <summary>
    /// A transforms catalog over <paramref name="environment"/>, for estimators reached from another catalog (the
    /// trainers'), so the scoring chain they build shares the context's settings.
    /// </summary>
    public static TransformsCatalog TransformsCatalogOf(IHostEnvironment environment)
    {
        var constructor = typeof(TransformsCatalog).GetConstructor(Members, [typeof(IHostEnvironment)]);
        return constructor?.Invoke([environment]) as TransformsCatalog ?? new MLContext().Transforms;
    }
}
