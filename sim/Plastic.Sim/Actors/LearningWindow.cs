namespace Plastic.Sim.Actors;

/// <summary>
/// The steps [Start, End) in which a layer learns. Greedy (layer-by-layer) training gives each layer
/// its own window, one after another from the bottom: before its window a layer only forwards (its
/// weights stay at their initialisation), after it the layer is frozen and only forwards. Inside the
/// window the layer counts its own steps from 0, so its optimisers start fresh (AdamW's t = 1) as
/// SCFF's per-layer optimiser and Greedy InfoMax's stages do.
/// </summary>
public sealed record LearningWindow(long Start, long End)
{
    public bool Contains(long step) => step >= Start && step < End;

    /// <summary>The layer's own step count at training step <paramref name="step"/> (inside the window).</summary>
    public long LocalStep(long step) => step - Start;

    /// <summary>Consecutive windows of the given lengths, bottom layer first.</summary>
    public static IReadOnlyList<LearningWindow> Greedy(IReadOnlyList<long> stepsPerLayer)
    {
        var windows = new List<LearningWindow>(stepsPerLayer.Count);
        long start = 0;
        foreach (long steps in stepsPerLayer)
        {
            if (steps < 1) throw new ArgumentException($"Greedy training gives every layer at least 1 step, not {steps}.");
            windows.Add(new LearningWindow(start, start + steps));
            start += steps;
        }
        return windows;
    }
}
