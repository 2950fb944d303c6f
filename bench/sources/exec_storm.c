/* Exec storm for bench_sensor.py: fork+exec /bin/true at RATE per second for SECONDS seconds,
 * then print how many processes it started. Benign: it runs nothing but /bin/true. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: exec_storm RATE SECONDS\n");
        return 2;
    }
    long rate = atol(argv[1]), seconds = atol(argv[2]);
    long total = rate * seconds, started = 0;
    struct timespec begin, now;
    clock_gettime(CLOCK_MONOTONIC, &begin);
    while (started < total) {
        pid_t child = fork();
        if (child == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        if (child > 0) started++;
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
        /* Pace to the rate: sleep until this process's slot. */
        double due = (double)started / rate;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double elapsed = (now.tv_sec - begin.tv_sec) + (now.tv_nsec - begin.tv_nsec) / 1e9;
        if (due > elapsed) {
            struct timespec pause = {(time_t)(due - elapsed),
                                     (long)((due - elapsed - (time_t)(due - elapsed)) * 1e9)};
            nanosleep(&pause, NULL);
        }
    }
    while (wait(NULL) > 0) {}
    clock_gettime(CLOCK_MONOTONIC, &now);
    printf("%ld %.3f\n", started, (now.tv_sec - begin.tv_sec) + (now.tv_nsec - begin.tv_nsec) / 1e9);
    return 0;
}
