using System.Reflection;
using System.Xml.Linq;

namespace Plastic.Tests;

/// <summary>
/// Locality as a build rule: the learning rules cannot name an actor, a mailbox or another layer,
/// because Plastic.Rules references only the compute core. References point one way:
/// Compute &lt;- Rules &lt;- Sim &lt;- Cli; Topology and Datasets are leaves.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly Assembly Rules = typeof(Plastic.Rules.ILocalRule).Assembly;

    [Fact]
    public void Rules_reference_only_the_compute_core_and_the_framework()
    {
        var references = Rules.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("Plastic.Compute", references);
        Assert.DoesNotContain(references, r => r.StartsWith("Akka", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r is "Plastic.Sim" or "Plastic.Topology" or "Plastic.Datasets" or "plastic");
    }

    [Fact]
    public void No_rule_type_mentions_an_actor_type()
    {
        foreach (var type in Rules.GetTypes())
        {
            var members = type.GetMembers(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly);
            var mentioned = members.SelectMany(MentionedTypes).Append(type.BaseType).Where(t => t is not null);
            Assert.DoesNotContain(mentioned, t => t!.Namespace?.StartsWith("Akka", StringComparison.Ordinal) == true || t.Namespace?.StartsWith("Plastic.Sim", StringComparison.Ordinal) == true);
        }
    }

    private static IEnumerable<Type?> MentionedTypes(MemberInfo m) => m switch
    {
        FieldInfo f => [f.FieldType],
        PropertyInfo p => [p.PropertyType],
        MethodInfo mi => mi.GetParameters().Select(p => p.ParameterType).Append(mi.ReturnType),
        ConstructorInfo c => c.GetParameters().Select(p => p.ParameterType),
        _ => [],
    };

    [Theory]
    [InlineData("sim/Plastic.Compute/Plastic.Compute.csproj", new string[0])]
    [InlineData("rules/Plastic.Rules/Plastic.Rules.csproj", new[] { "Plastic.Compute" })]
    [InlineData("topology/Plastic.Topology/Plastic.Topology.csproj", new string[0])]
    [InlineData("datasets/Plastic.Datasets/Plastic.Datasets.csproj", new string[0])]
    [InlineData("sim/Plastic.Sim/Plastic.Sim.csproj", new[] { "Plastic.Compute", "Plastic.Rules", "Plastic.Topology", "Plastic.Datasets" })]
    public void Project_references_point_one_way(string project, string[] allowed)
    {
        var path = Path.Combine(RepositoryRoot(), project);
        var references = XDocument.Load(path).Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
            .ToList();
        Assert.All(references, r => Assert.Contains(r, allowed));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Plastic.sln"))) return dir.FullName;
        throw new InvalidOperationException("Plastic.sln not found above the test binaries.");
    }
}
