/*
 * sundials_adapter.c — row-major arrays <-> SUNDIALS dense matrices and serial N_Vectors.
 *
 * SUNDIALS stores dense matrices by columns: SM_ELEMENT_D(A, i, j) is column j, row i.
 * The suite stores by rows (LAPACKE_ROW_MAJOR). Every conversion goes through here so that
 * a transposition bug can only live in one tested place (tests/test_solvers.c).
 */
#include <string.h>
#include "sundials_adapter.h"

void rnn_sun_dense_from_rows(size_t n, const double *rows, SUNMatrix A)
{
    for (size_t j = 0; j < n; j++) {
        double *col = SM_COLUMN_D(A, (sunindextype)j);
        for (size_t i = 0; i < n; i++)
            col[i] = rows[i * n + j];
    }
}

void rnn_sun_dense_to_rows(size_t n, SUNMatrix A, double *rows)
{
    for (size_t j = 0; j < n; j++) {
        const double *col = SM_COLUMN_D(A, (sunindextype)j);
        for (size_t i = 0; i < n; i++)
            rows[i * n + j] = col[i];
    }
}

double *rnn_sun_data(N_Vector v)
{
    return N_VGetArrayPointer(v);
}

void rnn_sun_from_array(size_t n, const double *x, N_Vector v)
{
    memcpy(N_VGetArrayPointer(v), x, n * sizeof(double));
}

void rnn_sun_to_array(size_t n, N_Vector v, double *x)
{
    memcpy(x, N_VGetArrayPointer(v), n * sizeof(double));
}
