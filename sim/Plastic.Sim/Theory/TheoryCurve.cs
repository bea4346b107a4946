using Plastic.Rules;
using Plastic.Topology;

namespace Plastic.Sim.Theory;

/// <summary>
/// One curve of a theory figure: a network (its rule names f and the reference), whether its weights
/// start (semi-)orthogonal, and whether every B is solved to the optimum of its regularised loss for
/// each batch (otherwise B stays at its random initialisation).
/// </summary>
public sealed record TheoryCurve(string Name, NetworkSpec Spec, bool Orthogonal, bool OptimalB)
{
    public ContrastiveSettings Settings => ContrastiveSettings.Parse(Spec.Rule).Settings;
    public bool DirectFeedback => Spec.Feedback.Count > 0;
}

/// <summary>A theory figure: its curves, the input they share, and the lambda of every B's L2 term.</summary>
public sealed record TheoryFigure(string Name, string Title, IReadOnlyList<TheoryCurve> Curves, InputSpec Input, double Lambda, string Data);
