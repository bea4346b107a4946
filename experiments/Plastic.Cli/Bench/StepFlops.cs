using Plastic.Sim;
using Plastic.Topology;

namespace Plastic.Cli.Bench;

/// <summary>
/// The floating-point operations of one training step by the direct algorithm (a convolution or linear
/// layer counts 2 x multiply-adds of its direct product, whatever algorithm runs it, Winograd included), for
/// both views (2N rows): every layer's forward pass and weight gradient; its input gradient where a gradient
/// goes down (backprop, all but the first layer; a local layer sends none); and the losses' trained matrices
/// (the contrastive rules' B per local layer, d_l x d_l or d_l x d_ref, the backprop graph's one d x d matrix on the top pooled to 1 x 1):
/// their product and its two gradients. Element-wise work, pooling and the N x N score matrices are not
/// counted, so the share of peak computed from it is a lower bound.
/// </summary>
internal static class StepFlops
{
    public static double Of(NetworkSpec network, GraphKind graph, int batch)
    {
        var shapes = NetworkValidator.Validate(network);
        double rows = 2.0 * batch, flops = 0;
        for (int i = 0; i < shapes.Count; i++)
        {
            var s = shapes[i];
            var l = s.Layer;
            double macsPerRow = l.Kind == LayerKind.Conv
                ? (double)s.Activation.Channels * s.Activation.Height * s.Activation.Width * s.Input.Channels * l.Kernel * l.Kernel
                : (double)s.Input.Size * s.Activation.Size;
            int products = graph == GraphKind.Backprop && i > 0 ? 3 : 2;
            flops += products * 2 * rows * macsPerRow;
            // The contrastive rules' B (CLAPP, CLAPP++ and its variants, PhyLL); goodness rules (FF, SCFF) have none.
            // A layer fed a top-down reference scores it through a d_l x d_ref B (CLAPP++DFB), CLAPP++both adds
            // that loss to a lateral one (two lateral ones at the sending layer); the others: one lateral d_l x d_l.
            string rule = (l.Rule ?? network.Rule).Split('/')[0];
            if (graph != GraphKind.Local || !(rule.StartsWith("clapp", StringComparison.Ordinal) || rule == "phyll")) continue;
            double d = s.LossFeatures.Size;
            var edge = network.Feedback.FirstOrDefault(e => e.To == l.Name);
            double reference = edge is null ? d : shapes.Single(x => x.Layer.Name == edge.From).LossFeatures.Size;
            double bEntries = rule switch
            {
                "clapp++dfb" => d * reference,
                "clapp++both" => d * d + d * reference,
                _ => d * d,
            };
            flops += 3 * 2 * rows * bEntries;
        }
        if (graph == GraphKind.Backprop)
        {
            double top = shapes[^1].Output.Channels;
            flops += 3 * 2 * rows * top * top;
        }
        return flops;
    }
}
