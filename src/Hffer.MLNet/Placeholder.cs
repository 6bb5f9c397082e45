namespace Hffer.MLNet; internal static class Placeholder { }
