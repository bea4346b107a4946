namespace Plastic.Rules;

/// <summary>The decreasing function f of the score (PAPER.md 2.1).</summary>
public enum ScoreFunction
{
    /// <summary>f(x) = max(0, 1 - x): CLAPP and CLAPP++.</summary>
    Hinge,
    /// <summary>f(x) = softplus(1 - x) = log(1 + e^(1 - x)): the theory's "logsig".</summary>
    Softplus,
    /// <summary>f(x) = -x.</summary>
    Linear,
    /// <summary>
    /// PhyLL's type-1 loss (PAPER.md 2.1, the released code's contrast mode 'phyll'): one term per row,
    /// theta softplus_beta=theta(u_neg - u_pos) = log(1 + e^(theta (u_neg - u_pos))).
    /// </summary>
    Phyll,
}

/// <summary>How the matrix B between layer features and reference is set.</summary>
public enum BMode
{
    /// <summary>Trained with AdamW from nn.Linear's initialisation (CLAPP++).</summary>
    Trainable,
    /// <summary>Left at its random initialisation (the theory's "random fixed B").</summary>
    FixedRandom,
    /// <summary>The identity, fixed (Forward-Forward-like scores); needs D_z = D_c.</summary>
    Identity,
}

/// <summary>
/// The options of the contrastive local loss. A rule name carries them after slashes:
/// "clapp++", "clapp++dfb/softplus", "clapp++/fixed-b", "clapp++both/linear/identity-b", "clapp++/gap/either".
/// </summary>
/// <param name="GlobalPool">
/// Average the whole feature map before the score ("no 2D spatial dependence", original CLAPP)
/// instead of the layer's k x k loss pool.
/// </param>
/// <param name="Either">
/// Original CLAPP's 50/50 update: each sample makes either its positive or its negative term, drawn per
/// sample and step from the rule's own stream (independent per layer, as in the CLAPP code); each term is
/// averaged over the samples that drew it, an empty set counting 0.
/// </param>
/// <param name="BDecay">
/// An explicit L2 penalty (lambda/2) |B|^2 added to the loss (the theory's regularised B; "/b-l2=0.02").
/// 0 in the vision runs, where B has no penalty beyond AdamW's weight decay (PAPER.md 3.2).
/// </param>
/// <param name="Theta">PhyLL's theta (the softplus's beta and its scale); 1 as in the released code.</param>
/// <param name="KeepTopGrid">
/// Backprop baselines only: score the top layer's k x k loss-pooled grid instead of pooling it to 1 x 1
/// (Plastic's earlier variant, not the paper's: PAPER.md 3.3 pools layer 6 to 1 x 1); "/grid".
/// </param>
public sealed record ContrastiveSettings(ScoreFunction F = ScoreFunction.Hinge, BMode B = BMode.Trainable, bool GlobalPool = false, bool Either = false,
    double BDecay = 0, double Theta = 1, bool KeepTopGrid = false)
{
    /// <summary>The original CLAPP in the two-view setting: lateral hinge loss, global average pooling, 50/50 updates.</summary>
    public const string ClappPreset = "clapp";
    /// <summary>PhyLL's contrast mode: lateral, the type-1 loss with theta.</summary>
    public const string PhyllPreset = "phyll";

    /// <summary>The options of the contrastive rules, as error messages and the catalogue list them.</summary>
    public const string OptionList = "hinge | softplus | linear (f), trainable-b | fixed-b | identity-b (B), gap | patches (pooling), either | both-terms (update), b-l2=<lambda>, theta=<t> (phyll), grid (backprop baselines)";

    public static (string Rule, ContrastiveSettings Settings) Parse(string rule)
    {
        var parts = rule.Split('/');
        var settings = parts[0] switch
        {
            ClappPreset => new ContrastiveSettings(GlobalPool: true, Either: true),
            PhyllPreset => new ContrastiveSettings(F: ScoreFunction.Phyll),
            _ => new ContrastiveSettings(),
        };
        // Each option sets one thing; two options setting the same thing (softplus and linear) contradict each other.
        var setBy = new Dictionary<string, string>();
        foreach (var option in parts.Skip(1))
        {
            var (what, next) = Apply(rule, parts[0], option, settings);
            if (setBy.TryGetValue(what, out var earlier))
                throw new ArgumentException($"Rule '{rule}': '{earlier}' and '{option}' both set {what}; give one. Options: {OptionList}.");
            setBy[what] = option;
            settings = next;
        }
        if (settings.F == ScoreFunction.Phyll && settings.Either)
            throw new ArgumentException($"Rule '{rule}': PhyLL's loss has one term per row; the 50/50 update (either) does not apply.");
        if (parts[0] == PhyllPreset && settings.F != ScoreFunction.Phyll)
            throw new ArgumentException($"Rule '{rule}': phyll is its own loss; hinge, softplus and linear name the other contrast modes (clapp++/softplus, ...).");
        return (parts[0], settings);
    }

    /// <summary>What one option sets (for the contradiction check) and the settings with it applied.</summary>
    private static (string What, ContrastiveSettings Settings) Apply(string rule, string name, string option, ContrastiveSettings settings) => option switch
    {
        "hinge" => ("the score function f", settings with { F = ScoreFunction.Hinge }),
        "softplus" => ("the score function f", settings with { F = ScoreFunction.Softplus }),
        "linear" => ("the score function f", settings with { F = ScoreFunction.Linear }),
        "trainable-b" => ("B", settings with { B = BMode.Trainable }),
        "fixed-b" => ("B", settings with { B = BMode.FixedRandom }),
        "identity-b" => ("B", settings with { B = BMode.Identity }),
        "gap" => ("the pooling", settings with { GlobalPool = true }),
        "patches" => ("the pooling", settings with { GlobalPool = false }),
        "either" => ("the update", settings with { Either = true }),
        "both-terms" => ("the update", settings with { Either = false }),
        "grid" => ("the top grid", settings with { KeepTopGrid = true }),
        _ when option.StartsWith("b-l2=", StringComparison.Ordinal) =>
            ("B's L2 penalty", settings with { BDecay = ParseNumber(rule, option, "b-l2=", "a lambda of 0 or more, such as b-l2=0.02", v => v >= 0) }),
        _ when option.StartsWith("theta=", StringComparison.Ordinal) && name == PhyllPreset =>
            ("theta", settings with { Theta = ParseNumber(rule, option, "theta=", "a theta above 0, such as theta=2", v => v > 0) }),
        _ => throw new ArgumentException($"Rule '{rule}': unknown option '{option}'. Options: {OptionList}."),
    };

    private static double ParseNumber(string rule, string option, string prefix, string expected, Func<double, bool> valid)
    {
        string text = option[prefix.Length..];
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && valid(value)
            ? value
            : throw new ArgumentException($"Rule '{rule}': option '{option}' needs {expected}.");
    }

    /// <summary>f(x).</summary>
    public double Value(double x) => F switch
    {
        ScoreFunction.Hinge => Math.Max(0, 1 - x),
        ScoreFunction.Softplus => 1 - x > 30 ? 1 - x : Math.Log(1 + Math.Exp(1 - x)),
        ScoreFunction.Linear => -x,
        _ => throw new InvalidOperationException("PhyLL's type-1 loss has no f of one score."),
    };

    /// <summary>f''(x) (0 for the hinge away from its kink, and for linear f).</summary>
    public double Curvature(double x)
    {
        if (F != ScoreFunction.Softplus) return 0;
        double s = 1 / (1 + Math.Exp(x - 1));
        return s * (1 - s);
    }

    /// <summary>f'(x).</summary>
    public double Slope(double x) => F switch
    {
        ScoreFunction.Hinge => x < 1 ? -1 : 0,
        ScoreFunction.Softplus => -1 / (1 + Math.Exp(x - 1)),
        ScoreFunction.Linear => -1,
        _ => throw new InvalidOperationException("PhyLL's type-1 loss has no f of one score."),
    };
}
