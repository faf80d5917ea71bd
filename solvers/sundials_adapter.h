/*
 * sundials_adapter.h — the one place that converts between the suite's row-major arrays
 * and SUNDIALS' column-major dense matrices and serial N_Vectors (private to solvers/).
 */
#ifndef ODERNN_SUNDIALS_ADAPTER_H
#define ODERNN_SUNDIALS_ADAPTER_H

#include <stddef.h>
#include <nvector/nvector_serial.h>
#include <sunmatrix/sunmatrix_dense.h>

/* Copies a row-major n x n array into a SUNDIALS dense (column-major) matrix. */
void rnn_sun_dense_from_rows(size_t n, const double *rows, SUNMatrix A);
/* Copies a SUNDIALS dense matrix into a row-major n x n array. */
void rnn_sun_dense_to_rows(size_t n, SUNMatrix A, double *rows);
/* The data of a serial N_Vector as a plain array (no copy). */
double *rnn_sun_data(N_Vector v);
/* Copies between a plain array and a serial N_Vector. */
void rnn_sun_from_array(size_t n, const double *x, N_Vector v);
void rnn_sun_to_array(size_t n, N_Vector v, double *x);

#endif
