# The chart of docs/performance.md, from the data codex_bench writes (eps.dat, rss.dat).
#   gnuplot -e "dir='build/release/bench-results'; out='docs/performance.png'" bench/plot.gp
# Columns: N pipe_cat pipe parse parse_route parse_2t async_stream async_run sync_stream sync_run
#          sync_stream_loose (TurnHandle::stream() with Limits::max_buffered_turn_events = 65536)

if (!exists("dir")) dir = "bench-results"
if (!exists("out")) out = "performance.png"

set terminal pngcairo size 1400,560 font "DejaVu Sans,10" noenhanced
set output out
set datafile missing "NaN"
set multiplot layout 1,2 title "codex-cpp: one turn of N deltas (N + 5 events), the SDK beside the floors, same fake app-server and bytes"

set logscale x 10
set xrange [500:2000000]
set format x "%.0s%c"
set xlabel "N (deltas in the turn)"
set grid xtics ytics mxtics
set key outside bottom center horizontal maxrows 3 width -2 font ",9"

set title "throughput, best run (the pipe floors, several million events/s, are off the scale)"
set ylabel "events/s"
set yrange [0:*]
set format y "%.1s%c"
plot dir."/eps.dat" using 1:4 with linespoints dt 2 lc rgb "#555555" pt 2 lw 2 title "floor: parse (1 thread)", \
     ''             using 1:5 with linespoints dt 2 lc rgb "#8c564b" pt 3 title "floor: parse + route", \
     ''             using 1:6 with linespoints dt 2 lc rgb "#bcbd22" pt 4 lw 2 title "floor: parse, 2 threads", \
     ''             using 1:7 with linespoints lc rgb "#1f77b4" pt 5 lw 2 title "AsyncTurnHandle::stream()", \
     ''             using 1:8 with linespoints lc rgb "#17becf" pt 6 title "AsyncTurnHandle::run()", \
     ''             using 1:9 with linespoints lc rgb "#d62728" pt 7 lw 2 title "TurnHandle::stream() (sync)", \
     ''             using 1:10 with linespoints lc rgb "#ff7f0e" pt 8 title "TurnHandle::run() (sync)"

set title "peak RSS of the process (max over runs)"
set ylabel "MiB"
set logscale y 2
set format y "%g"
set yrange [4:*]
plot dir."/rss.dat" using 1:4 with linespoints dt 2 lc rgb "#555555" pt 2 lw 2 title "floor: parse (1 thread)", \
     ''             using 1:6 with linespoints dt 2 lc rgb "#bcbd22" pt 4 lw 2 title "floor: parse, 2 threads", \
     ''             using 1:7 with linespoints lc rgb "#1f77b4" pt 5 lw 2 title "AsyncTurnHandle::stream()", \
     ''             using 1:8 with linespoints lc rgb "#17becf" pt 6 title "AsyncTurnHandle::run()", \
     ''             using 1:9 with linespoints lc rgb "#d62728" pt 7 lw 2 title "TurnHandle::stream() (sync)", \
     ''             using 1:10 with linespoints lc rgb "#ff7f0e" pt 8 title "TurnHandle::run() (sync)", \
     ''             using 1:11 with linespoints dt 4 lc rgb "#9467bd" pt 9 title "TurnHandle::stream(), limit 65536 (default 8192)", \
     16 with lines dt 4 lw 2 lc rgb "#2ca02c" title "target: 16 MiB"

unset multiplot
