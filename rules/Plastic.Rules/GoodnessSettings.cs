using System.Globalization;

namespace Plastic.Rules;

/// <summary>Which goodness rule, and so which pairs it scores (RULES-FF-SCFF-CLAPP.md 1 and 2).</summary>
public enum GoodnessPairs
{
    /// <summary>
    /// Forward-Forward, unsupervised: positives are the real inputs (the 2N rows, the forward pass's own
    /// activity); negatives are hybrids, the average of a row's input and its partner's. Goodness is the
    /// sum of squares over units (per position, averaged over positions).
    /// </summary>
    ForwardForward,
    /// <summary>
    /// SCFF: positives pair an image with itself, negatives with another image, both "concatenated"
    /// along channels with the layer's kernel shared on the halves: a = W x1 + W x2 + 2b. Goodness is
    /// the mean of squares over channels, scored at every position.
    /// </summary>
    SelfContrastive,
}

/// <summary>
/// Thresholds of a goodness rule: p(positive) = sigma(G - theta); positives are pushed above
/// <see cref="PositiveThreshold"/>, negatives below <see cref="NegativeThreshold"/> (equal for FF).
/// Options after slashes: "ff/theta=4", "scff/th1=5/th2=9/lambda=0.0007".
/// </summary>
/// <param name="PositiveThreshold">Null: FF's default, the number of channels (units per position), as in the reference implementation's theta = D.</param>
/// <param name="Lambda">SCFF's penalty on the L2 norm of each positive goodness map (0: off).</param>
public sealed record GoodnessSettings(double? PositiveThreshold = null, double? NegativeThreshold = null, double Lambda = 0)
{
    public const string ForwardForwardName = "ff";
    public const string SelfContrastiveName = "scff";
    /// <summary>SCFF's CIFAR-10 layer-2 thresholds (its config.json: th1 5, th2 9), used for every layer unless set.</summary>
    public const double ScffPositive = 5, ScffNegative = 9;

    public static bool IsGoodnessRule(string rule) => rule.Split('/')[0] is ForwardForwardName or SelfContrastiveName;

    public static (GoodnessPairs Pairs, GoodnessSettings Settings) Parse(string rule)
    {
        var parts = rule.Split('/');
        var pairs = parts[0] switch
        {
            ForwardForwardName => GoodnessPairs.ForwardForward,
            SelfContrastiveName => GoodnessPairs.SelfContrastive,
            _ => throw new ArgumentException($"Rule '{rule}' is not a goodness rule (ff, scff)."),
        };
        var settings = pairs == GoodnessPairs.SelfContrastive ? new GoodnessSettings(ScffPositive, ScffNegative) : new GoodnessSettings();
        var given = new HashSet<string>();
        foreach (var option in parts.Skip(1))
        {
            var kv = option.Split('=', 2);
            // theta sets both thresholds: with th1 or th2, or any option twice, the rule contradicts itself.
            var sets = kv[0] == "theta" ? new[] { "th1", "th2" } : [kv[0]];
            if (sets.Any(t => !given.Add(t)))
                throw new ArgumentException($"Rule '{rule}': '{option}' sets a threshold or lambda an earlier option already set; give each once (theta sets both th1 and th2).");
            if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                throw new ArgumentException($"Rule '{rule}': option '{option}' must be name=number (theta, th1, th2, lambda).");
            settings = kv[0] switch
            {
                "theta" => settings with { PositiveThreshold = value, NegativeThreshold = value },
                "th1" => settings with { PositiveThreshold = value },
                "th2" => settings with { NegativeThreshold = value },
                "lambda" when value >= 0 => settings with { Lambda = value },
                "lambda" => throw new ArgumentException($"Rule '{rule}': lambda must not be negative, got {value}."),
                _ => throw new ArgumentException($"Rule '{rule}': unknown option '{kv[0]}'. Options: theta, th1, th2, lambda."),
            };
        }
        return (pairs, settings);
    }
}
