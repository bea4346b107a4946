using Plastic.Compute;

namespace Plastic.Sim.Theory;

/// <summary>
/// (Semi-)orthogonal matrices as nn.init.orthogonal_ makes them: orthonormal rows when rows &lt;= columns,
/// orthonormal columns otherwise; Gram-Schmidt (twice, for accuracy) on Gaussian draws, in double.
/// </summary>
public static class Orthogonal
{
    public static float[] Matrix(int rows, int columns, RandomStream stream)
    {
        bool byRows = rows <= columns;
        int count = byRows ? rows : columns, length = byRows ? columns : rows;
        var v = new double[count, length];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < length; j++) v[i, j] = stream.Normal((ulong)(i * length + j));
        for (int i = 0; i < count; i++)
        {
            for (int pass = 0; pass < 2; pass++)
                for (int k = 0; k < i; k++)
                {
                    double dot = 0;
                    for (int j = 0; j < length; j++) dot += v[i, j] * v[k, j];
                    for (int j = 0; j < length; j++) v[i, j] -= dot * v[k, j];
                }
            double norm = 0;
            for (int j = 0; j < length; j++) norm += v[i, j] * v[i, j];
            norm = Math.Sqrt(norm);
            for (int j = 0; j < length; j++) v[i, j] /= norm;
        }
        var m = new float[rows * columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) m[r * columns + c] = (float)(byRows ? v[r, c] : v[c, r]);
        return m;
    }
}
