namespace Plastic.Topology;

/// <summary>An invalid network spec; the message names the file (when there is one), the layer and the field.</summary>
public sealed class SpecException(string message) : Exception(message);
