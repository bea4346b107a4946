namespace Plastic.Tests;

/// <summary>
/// The suite's split: the slow tests (a few seconds to a minute and a half each: the PyTorch twin, the
/// scripts, processes killed and resumed, the ILGPU CPU accelerator, the theory figures) carry
/// [Trait(Category, Slow)]; everything else is the fast set, `--filter "Category!=Slow"`. CI runs both.
/// </summary>
public static class TestCategories
{
    public const string Category = "Category";
    public const string Slow = "Slow";
}
