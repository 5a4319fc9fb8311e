# Command-line cases: expected exit status, text expected in stdout+stderr, command.
# Run by tests/run.sh with $BIN (the programs), $TOOL (bundle_tool) and $T (a scratch directory
# holding features.bundle, assembly.bundle, trunk.bundle, diffuse.bundle made by bundle_tool).
# After every case, $T must hold no temporary files (nothing partial is left behind).
#
# status	expected text	command
0	Usage: of3-parse	$BIN/of3-parse --help
0	Usage: of3-featurize	$BIN/of3-featurize --help
0	Usage: of3-trunk -w WEIGHTS	$BIN/of3-trunk --help
0	Usage: of3-diffuse -w WEIGHTS	$BIN/of3-diffuse --help
0	Usage: of3-writecif -o DIR	$BIN/of3-writecif --help
0	Usage: of3-inspect	$BIN/of3-inspect -h
0	Exit status: 0 success	$BIN/of3-trunk --help
0	--precision P	$BIN/of3-diffuse --help
0	of3-parse 0.1.0	$BIN/of3-parse --version
0	cJSON 1.7	$BIN/of3-parse --version
0	bundle format 1; msgpack-c	$BIN/of3-featurize --version
0	backends: cpu	$BIN/of3-trunk --version
0	of3-writecif 0.1.0	$BIN/of3-writecif --version
0	of3-inspect 0.1.0	$BIN/of3-inspect --version
2	Usage: of3-inspect	$BIN/of3-inspect --no-such-option
2	Usage: of3-trunk	$BIN/of3-trunk -w x --bogus $T/features.bundle
2	no weights: give -w FILE	$BIN/of3-trunk $T/features.bundle
2	--threads: '2OO' is not a whole number	$BIN/of3-trunk -w x -t 2OO $T/features.bundle
2	--seed: '-1x' is not a whole number	$BIN/of3-diffuse -w x --seed=-1x $T/trunk.bundle
2	--precision: 'fp16' is not bf16 or fp32	$BIN/of3-trunk -w x --precision fp16 $T/features.bundle
2	--device: 'gpu' is not auto, cpu, cuda or cuda:N	$BIN/of3-trunk -w x --device gpu $T/features.bundle
2	--device: 'cuda:x' is not auto, cpu, cuda or cuda:N	$BIN/of3-trunk -w x --device cuda:x $T/features.bundle
2	one input at a time	$BIN/of3-featurize $T/assembly.bundle $T/assembly.bundle
2	no output directory: give -o DIR	$BIN/of3-writecif $T/diffuse.bundle
2	cannot open $T/missing.bundle	$BIN/of3-featurize $T/missing.bundle -o $T/out.bundle
2	expected an assembly bundle, got a features bundle	$BIN/of3-featurize $T/features.bundle -o $T/out.bundle
2	expected a features bundle, got an assembly bundle	$BIN/of3-trunk -w x --device cpu -o $T/out.bundle < $T/assembly.bundle
2	expected a trunk bundle, got a features bundle	$BIN/of3-diffuse -w x --device cpu $T/features.bundle -o $T/out.bundle
2	expected a diffuse bundle, got a trunk bundle	$BIN/of3-writecif -o $T/outdir $T/trunk.bundle
1	of3-featurize is not implemented yet (issue #5); nothing written	$BIN/of3-featurize $T/assembly.bundle -o $T/out.bundle
1	of3-trunk is not implemented yet (issue #7)	$BIN/of3-trunk -w x --device cpu $T/features.bundle -o $T/out.bundle
1	of3-diffuse is not implemented yet (issue #8)	cat $T/trunk.bundle | $BIN/of3-diffuse -w x --device cpu -o $T/out.bundle
1	of3-writecif is not implemented yet (issue #9)	$BIN/of3-writecif -o $T/outdir $T/diffuse.bundle
1	turning queries into assembly bundles is not implemented yet (issue #4)	$BIN/of3-parse examples/query_ubiquitin.json -o $T/out.bundle
2	stdin: line 2, column 12: malformed JSON near '  {"a": 1,}'	printf '{"queries":\n  {"a": 1,}\n' | $BIN/of3-parse -o $T/out.bundle
2	stdin: line 1, column 9: malformed JSON near '{"a":1} x'	echo '{"a":1} x' | $BIN/of3-parse -o $T/out.bundle
2	binary data, not a JSON text file	$BIN/of3-parse $T/features.bundle -o $T/out.bundle
2	cannot open $T/missing.json	$BIN/of3-parse $T/missing.json
2	refusing to write a binary bundle to a terminal	script -qec "$BIN/of3-featurize $T/assembly.bundle" /dev/null
2	refusing to write a binary bundle to a terminal	script -qec "$BIN/of3-parse examples/query_ubiquitin.json" /dev/null
2	no input: give a FILE, or pipe into stdin	script -qec "$BIN/of3-featurize -o $T/out.bundle" /dev/null
2	no input: give a FILE, or pipe into stdin	script -qec "$BIN/of3-inspect" /dev/null
0	tensor x                            f32  [2, 3]	$BIN/of3-inspect $T/features.bundle
0	value  names                        ["N", "CA"]	cat $T/features.bundle | $BIN/of3-inspect -
0	== $T/trunk.bundle	$BIN/of3-inspect $T/features.bundle $T/trunk.bundle
0	2 tensors (0.000 MB), 1 value	$BIN/of3-inspect -o $T/inspect.txt $T/features.bundle && cat $T/inspect.txt
0	tensor arange_f32                   f32  [2, 3, 4]          min 0            max 23           mean 11.5	$TOOL sample | $BIN/of3-inspect
0	tensor ones_bf16                    bf16 [3]                min 1            max 1            mean 1	$TOOL sample | $BIN/of3-inspect
0	tensor half_f16                     f16  [2]                min -2           max 0.5          mean -0.75	$TOOL sample | $BIN/of3-inspect
0	tensor empty                        f32  [0, 3]             (no finite values)	$TOOL sample | $BIN/of3-inspect
0	bundle 2: kind trunk, query 'sample-2'	$TOOL sample | $BIN/of3-inspect
0	tensor big                          f32  [1000]             min 0            max 999          mean 499.5	$TOOL sample | $BIN/of3-inspect
2	byte 0: not an of3 bundle	$BIN/of3-inspect examples/query_ubiquitin.json
