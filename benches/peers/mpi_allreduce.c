/* The bare baseline of `cargo bench --features mpi --bench distributed -- allreduce`: the median and fastest
 * times of a blocking MPI_Allreduce (sum, in place) of N floats, over the ranks mpirun started. Compiled by the benchmark
 * with the same mpicc slim was built with.
 *
 *   mpirun -np 2 ./mpi_allreduce FLOATS ITERATIONS      prints `bare_allreduce_ms <median> <fastest>` on rank 0
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int compare(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long floats = argc > 1 ? atol(argv[1]) : 1000000;
    int iterations = argc > 2 ? atoi(argv[2]) : 20;
    float* buffer = malloc(sizeof(float) * (size_t)(floats > 0 ? floats : 1));
    double* times = malloc(sizeof(double) * (size_t)iterations);
    for (long i = 0; i < floats; ++i) buffer[i] = (float)(i % 7);
    for (int warmup = 0; warmup < 3; ++warmup) {
        MPI_Allreduce(MPI_IN_PLACE, buffer, (int)floats, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    for (int i = 0; i < iterations; ++i) {
        MPI_Barrier(MPI_COMM_WORLD);
        double start = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, buffer, (int)floats, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        times[i] = (MPI_Wtime() - start) * 1e3;
    }
    qsort(times, (size_t)iterations, sizeof(double), compare);
    if (rank == 0) printf("bare_allreduce_ms %.4f %.4f\n", times[iterations / 2], times[0]);
    free(buffer);
    free(times);
    MPI_Finalize();
    return 0;
}
