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
public sealed record ContrastiveSettings(ScoreFunction F = ScoreFunction.Hinge, BMode B = BMode.Trainable, bool GlobalPool = false, bool Either = false,
    double BDecay = 0)
{
    /// <summary>The original CLAPP in the two-view setting: lateral hinge loss, global average pooling, 50/50 updates.</summary>
    public const string ClappPreset = "clapp";

    public static (string Rule, ContrastiveSettings Settings) Parse(string rule)
    {
        var parts = rule.Split('/');
        var settings = parts[0] == ClappPreset ? new ContrastiveSettings(GlobalPool: true, Either: true) : new ContrastiveSettings();
        foreach (var option in parts.Skip(1))
        {
            settings = option switch
            {
                "hinge" => settings with { F = ScoreFunction.Hinge },
                "softplus" => settings with { F = ScoreFunction.Softplus },
                "linear" => settings with { F = ScoreFunction.Linear },
                "trainable-b" => settings with { B = BMode.Trainable },
                "fixed-b" => settings with { B = BMode.FixedRandom },
                "identity-b" => settings with { B = BMode.Identity },
                "gap" => settings with { GlobalPool = true },
                "patches" => settings with { GlobalPool = false },
                "either" => settings with { Either = true },
                "both-terms" => settings with { Either = false },
                _ when option.StartsWith("b-l2=", StringComparison.Ordinal) => settings with { BDecay = ParseDecay(rule, option) },
                _ => throw new ArgumentException($"Rule '{rule}': unknown option '{option}'. Options: hinge, softplus, linear, trainable-b, fixed-b, identity-b, gap, patches, either, both-terms, b-l2=<lambda>."),
            };
        }
        return (parts[0], settings);
    }

    private static double ParseDecay(string rule, string option)
    {
        string text = option["b-l2=".Length..];
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) && value >= 0 && double.IsFinite(value)
            ? value
            : throw new ArgumentException($"Rule '{rule}': option '{option}' needs a lambda of 0 or more, such as b-l2=0.02.");
    }

    /// <summary>f(x).</summary>
    public double Value(double x) => F switch
    {
        ScoreFunction.Hinge => Math.Max(0, 1 - x),
        ScoreFunction.Softplus => 1 - x > 30 ? 1 - x : Math.Log(1 + Math.Exp(1 - x)),
        _ => -x,
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
        _ => -1,
    };
}
