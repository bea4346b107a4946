using Plastic.Topology;

namespace Plastic.Experiments;

/// <summary>A network by preset name or spec file.</summary>
public static class NetworkResolver
{
    /// <summary>A path to an existing file (or a .json name) is a spec file; anything else must be a preset name.</summary>
    public static NetworkSpec Resolve(string specOrPreset)
    {
        try
        {
            return File.Exists(specOrPreset) || specOrPreset.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                ? NetworkSpecJson.Load(specOrPreset)
                : Presets.ByName(specOrPreset);
        }
        catch (SpecException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }

    /// <summary>A run spec's network: a preset, or a spec file relative to the run spec's folder.</summary>
    public static NetworkSpec Resolve(string network, string specDir)
    {
        if (Presets.Names.Contains(network)) return Presets.ByName(network);
        string path = Path.IsPathRooted(network) || File.Exists(network) ? network : Path.Combine(specDir, network);
        return Resolve(File.Exists(path) ? path : network);
    }
}
