# Command-line cases: expected exit status, text expected in stdout+stderr, command.
# Run by tests/run.sh with $BIN (the programs), $TOOL (bundle_tool), $TESTS (the test programs)
# and $T (a scratch directory
# holding features.bundle, assembly.bundle, trunk.bundle, diffuse.bundle made by bundle_tool,
# tiny_{protein,protein_ligand}_trunk.bundle made by the pipeline with the tiny checkpoint,
# tiny_mixed_trunk.bundle (protein's, s_trunk of protein_ligand), tiny_nan_trunk.bundle (a NaN
# in z_trunk) and tiny_protein_sample.bundle, the fixture's recorded sampler draws).
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
0	bundle 1: kind features, query 'ubiquitin'	$BIN/of3-parse examples/query_ubiquitin.json | $BIN/of3-featurize | $BIN/of3-inspect
0	tensor ref_pos                      f32  [601, 3]	$BIN/of3-parse examples/query_ubiquitin.json | $BIN/of3-featurize --seed 7 | $BIN/of3-inspect
0	tensor template_distogram           f32  [4, 68, 68, 39]	$BIN/of3-parse examples/query_homomer.json | $BIN/of3-featurize -o $T/f.bundle && $BIN/of3-inspect $T/f.bundle
0	ok	$BIN/of3-parse examples/query_ubiquitin.json -o $T/u.asm && $BIN/of3-featurize -s 3 $T/u.asm -o $T/a.f && $BIN/of3-featurize -s 3 $T/u.asm -o $T/b.f && cmp $T/a.f $T/b.f && echo ok
0	differ	$BIN/of3-parse examples/query_ubiquitin.json -o $T/u.asm && $BIN/of3-featurize -s 3 $T/u.asm -o $T/a.f && $BIN/of3-featurize -s 4 $T/u.asm -o $T/b.f && { cmp -s $T/a.f $T/b.f && echo same || echo differ; }
2	query 'q1': assembly bundle: tensor atom_res_id is missing	$BIN/of3-featurize $T/assembly.bundle -o $T/out.bundle
0	tensor ref_pos                      f32  [5153, 3]	$BIN/of3-parse examples/query_protein_ligand.json | $BIN/of3-featurize -o $T/out.bundle && $BIN/of3-inspect $T/out.bundle
2	truncated: the stream ends inside	$BIN/of3-parse examples/query_ubiquitin.json | head -c 20000 | $BIN/of3-featurize -o $T/out.bundle
2	MSA path '$T/gone/uniref90_hits.a3m' cannot be read: No such file or directory	mkdir -p $T/gone && printf '>q\nMKVL\n' >$T/gone/uniref90_hits.a3m && printf '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKVL","main_msa_file_paths":"%s"}]}}}' $T/gone/uniref90_hits.a3m >$T/q.json && $BIN/of3-parse $T/q.json -o $T/gone.bundle && rm $T/gone/uniref90_hits.a3m && $BIN/of3-featurize $T/gone.bundle -o $T/out.bundle
2	uniref90_hits.a3m' line 1: sequence before the first '>' header	mkdir -p $T/m1 && printf 'MKVL\n>q\nMKVL\n' >$T/m1/uniref90_hits.a3m && printf '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKVL","main_msa_file_paths":"%s"}]}}}' $T/m1 >$T/q.json && $BIN/of3-parse $T/q.json | $BIN/of3-featurize -o $T/out.bundle
2	uniref90_hits.a3m' line 3: sequence 's1' has 3 aligned columns, the first (query) sequence has 4	mkdir -p $T/m2 && printf '>q\nMKVL\n>s1\nMKaV\n' >$T/m2/uniref90_hits.a3m && printf '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKVL","main_msa_file_paths":"%s"}]}}}' $T/m2 >$T/q.json && $BIN/of3-parse $T/q.json | $BIN/of3-featurize -o $T/out.bundle
2	uniref90_hits.a3m' line 4: character '*' is not a residue letter, '-' or '.'	mkdir -p $T/m3 && printf '>q\nMKVL\n>s1\nMK*L\n' >$T/m3/uniref90_hits.a3m && printf '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKVL","main_msa_file_paths":"%s"}]}}}' $T/m3 >$T/q.json && $BIN/of3-parse $T/q.json | $BIN/of3-featurize -o $T/out.bundle
2	mgnify_hits.sto' line 2: expected 'name sequence' (two fields), got more than two fields	mkdir -p $T/m4 && printf 'q MKVL\ns1 MK VL\n' >$T/m4/mgnify_hits.sto && printf '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKVL","main_msa_file_paths":"%s"}]}}}' $T/m4/mgnify_hits.sto >$T/q.json && $BIN/of3-parse $T/q.json | $BIN/of3-featurize -o $T/out.bundle
2	mgnify_hits.sto' line 2: sequence 's1' is 3 columns long, the first (query) sequence 4	mkdir -p $T/m5 && printf 'q MKVL\ns1 MKV\n' >$T/m5/mgnify_hits.sto && printf '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKVL","main_msa_file_paths":"%s"}]}}}' $T/m5/mgnify_hits.sto >$T/q.json && $BIN/of3-parse $T/q.json | $BIN/of3-featurize -o $T/out.bundle
2	its first sequence (the query row) has 'I' at position 3 where chain A's sequence has 'V'	mkdir -p $T/m6 && printf '>q\nMKIL\n' >$T/m6/uniref90_hits.a3m && printf '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKVL","main_msa_file_paths":"%s"}]}}}' $T/m6 >$T/q.json && $BIN/of3-parse $T/q.json | $BIN/of3-featurize -o $T/out.bundle
2	npz MSAs are not supported; give a3m or sto	printf 'PK' >$T/x.npz && printf '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKVL","main_msa_file_paths":"%s"}]}}}' $T/x.npz >$T/q.json && $BIN/of3-parse $T/q.json | $BIN/of3-featurize -o $T/out.bundle
0	"n_msa": 53	$BIN/of3-parse tests/fixtures/msa/msa_queries.json | $BIN/of3-featurize | $BIN/of3-inspect
2	template_alignment_file_path is given, but templates are not supported yet	printf '%s' '{"queries":{"t":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKV","template_alignment_file_path":"examples/query_ubiquitin.json"}]}}}' | $BIN/of3-parse | $BIN/of3-featurize -o $T/out.bundle
2	features: tensor 'token_mask' is missing	$BIN/of3-trunk -w tests/fixtures/of3_tiny_random.pt --device cpu $T/features.bundle -o $T/out.bundle
2	bad_not_zip.pt: not a zip archive	$BIN/of3-trunk -w tests/fixtures/checkpoint/bad_not_zip.pt --device cpu $T/features.bundle -o $T/out.bundle
2	GLOBAL 'os system' is not allowed	$BIN/of3-trunk -w tests/fixtures/checkpoint/bad_global_os_system.pt --device cpu $T/features.bundle -o $T/out.bundle
2	checkpoint layout p2 (of3-p2-155k.pt) recognised, not supported yet	$BIN/of3-trunk -w tests/fixtures/checkpoint/layout_p2.pt --device cpu $T/features.bundle -o $T/out.bundle
2	recognised, not supported yet	$BIN/of3-trunk -w tests/fixtures/checkpoint/layout_openbind.pt --device cpu $T/features.bundle -o $T/out.bundle
2	checkpoint key 'input_embedder.atom_attn_enc.ref_atom_feature_embedder.linear_ref_pos.weight' is missing	$BIN/of3-trunk -w tests/fixtures/checkpoint/layout_p1.pt --device cpu $T/features.bundle -o $T/out.bundle
2	--cycles: 0 is outside 1..100	$BIN/of3-trunk -w x --cycles 0 $T/features.bundle
2	--cycles: '3x' is not a whole number	$BIN/of3-trunk -w x --cycles 3x $T/features.bundle
0	--cycles N	$BIN/of3-trunk --help
0	kind trunk, query 'protein'	$BIN/of3-parse tests/fixtures/queries/protein.json | $BIN/of3-featurize | $BIN/of3-trunk -w tests/fixtures/of3_tiny_random.pt --cycles 3 --device cpu -o $T/out.bundle && $BIN/of3-inspect $T/out.bundle
0	"cycles": 3	$BIN/of3-parse tests/fixtures/queries/protein.json | $BIN/of3-featurize | $BIN/of3-trunk -w tests/fixtures/of3_tiny_random.pt --cycles 3 --device cpu -o $T/out.bundle && $BIN/of3-inspect $T/out.bundle
0	z_trunk                      f32  [36, 36, 16]	$BIN/of3-parse tests/fixtures/queries/protein.json | $BIN/of3-featurize | $BIN/of3-trunk -w tests/fixtures/of3_tiny_random.pt --cycles 3 --device cpu -o $T/out.bundle && $BIN/of3-inspect $T/out.bundle
0	of3-trunk: query 'protein': cycle 3/3,	$BIN/of3-parse tests/fixtures/queries/protein.json | $BIN/of3-featurize | $BIN/of3-trunk -w tests/fixtures/of3_tiny_random.pt --cycles 3 --device cpu --progress -o $T/out.bundle
0	the CPU backend computes in fp32	$BIN/of3-parse tests/fixtures/queries/protein.json | $BIN/of3-featurize | $BIN/of3-trunk -w tests/fixtures/of3_tiny_random.pt --cycles 3 --device cpu --precision bf16 -o $T/out.bundle
0	kind diffuse, query 'protein'	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --steps 4 --samples 2 --device cpu -o $T/out.bundle $T/tiny_protein_trunk.bundle && $BIN/of3-inspect $T/out.bundle
0	atom_positions_predicted     f32  [2, 294, 3]	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --steps 4 --samples 2 --device cpu -o $T/out.bundle $T/tiny_protein_trunk.bundle && $BIN/of3-inspect $T/out.bundle
0	pae_logits                   f32  [2, 36, 36, 64]	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --steps 4 --samples 2 --device cpu -o $T/out.bundle $T/tiny_protein_trunk.bundle && $BIN/of3-inspect $T/out.bundle
0	query 'protein': diffusion step 4/4	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --steps 4 --samples 1 --device cpu --progress -o $T/out.bundle $T/tiny_protein_trunk.bundle
0	"n_sample": 2	cat $T/tiny_protein_trunk.bundle | $BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --device cpu --noise-replay $T/tiny_protein_sample.bundle | $BIN/of3-inspect -
0	"noise": "replay"	cat $T/tiny_protein_trunk.bundle | $BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --device cpu --noise-replay $T/tiny_protein_sample.bundle | $BIN/of3-inspect -
0	--noise-replay FILE	$BIN/of3-diffuse --help
0	--samples N	$BIN/of3-diffuse --help
2	--samples: 0 is outside 1..1000	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --samples 0 $T/tiny_protein_trunk.bundle
2	--samples: 100000 is outside 1..1000	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --samples 100000 $T/tiny_protein_trunk.bundle
2	--steps: 0 is outside 1..10000	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --steps 0 $T/tiny_protein_trunk.bundle
2	--steps: 1000000000000 is outside 1..10000	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --steps 1000000000000 $T/tiny_protein_trunk.bundle
2	--steps: '2x' is not a whole number	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --steps 2x $T/tiny_protein_trunk.bundle
2	trunk: tensor 's_trunk' is for 33 tokens but the features have 36: the trunk outputs belong to another query	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --steps 2 --device cpu -o $T/out.bundle $T/tiny_mixed_trunk.bundle
2	trunk: tensor 'z_trunk' holds NaN at flat index 0	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --steps 2 --device cpu -o $T/out.bundle $T/tiny_nan_trunk.bundle
2	tensor 'sample_noise_init' has another dtype or shape; expected f32 or f64 [2, 187, ...]	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --device cpu --noise-replay $T/tiny_protein_sample.bundle -o $T/out.bundle $T/tiny_protein_ligand_trunk.bundle
2	tensor 'sample_aug_quat' has another dtype or shape	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --device cpu --steps 3 --noise-replay $T/tiny_protein_sample.bundle -o $T/out.bundle $T/tiny_protein_trunk.bundle
2	not an of3 bundle	$BIN/of3-diffuse -w tests/fixtures/of3_tiny_random.pt --device cpu --noise-replay tests/fixtures/tiny_protein_sample.bundle.gz -o $T/out.bundle $T/tiny_protein_trunk.bundle
2	tensor 'atom_positions_predicted' is missing	$BIN/of3-writecif -o $T/outdir $T/diffuse.bundle
2	coordinate is NaN	$TESTS/test_writecif_metrics --make-diffuse tiny_protein $T/nan.bundle --nan && $BIN/of3-writecif -o $T/wcnan $T/nan.bundle
1	a file of that name is in the way	touch $T/plain && $TESTS/test_writecif_metrics --make-diffuse tiny_protein $T/wc.bundle && $BIN/of3-writecif -o $T/plain/out $T/wc.bundle
1	File too large	$TESTS/test_writecif_metrics --make-diffuse tiny_protein $T/wc.bundle && sh -c "trap '' XFSZ; ulimit -f 4; $BIN/of3-writecif -o $T/full $T/wc.bundle"
2	is neither openfold3 nor alphafold3	$BIN/of3-writecif --layout pdb -o $T/x $T/diffuse.bundle
0	--pdb           also a PDB file beside each mmCIF file	$BIN/of3-writecif --help
0	ATOM      1  N   GLY A   1     -19.348  30.842  -6.149  1.00 53.13           N  	$TESTS/test_writecif_metrics --make-diffuse tiny_protein_ligand $T/wcl.bundle && $BIN/of3-writecif -q --pdb -o $T/wcpdb $T/wcl.bundle && head -1 $T/wcpdb/protein_ligand/seed_42/protein_ligand_seed_42_sample_1_model.pdb
0	TER     175      GLN A  20	$TESTS/test_writecif_metrics --make-diffuse tiny_protein_ligand $T/wcl.bundle && $BIN/of3-writecif -q --pdb -o $T/wcpdb $T/wcl.bundle && grep -A1 ^TER $T/wcpdb/protein_ligand/seed_42/protein_ligand_seed_42_sample_2_model.pdb
0	HETATM  176  C1  LIG B   1 	$TESTS/test_writecif_metrics --make-diffuse tiny_protein_ligand $T/wcl.bundle && $BIN/of3-writecif -q --pdb -o $T/wcpdb $T/wcl.bundle && grep -A1 ^TER $T/wcpdb/protein_ligand/seed_42/protein_ligand_seed_42_sample_2_model.pdb
0	HETATM  188 MG    MG C   1 	$TESTS/test_writecif_metrics --make-diffuse tiny_protein_ligand $T/wcl.bundle && $BIN/of3-writecif -q --pdb -o $T/wcpdb $T/wcl.bundle && tail -14 $T/wcpdb/protein_ligand/seed_42/protein_ligand_seed_42_sample_1_model.pdb
0	CONECT  177  176  178  179	$TESTS/test_writecif_metrics --make-diffuse tiny_protein_ligand $T/wcl.bundle && $BIN/of3-writecif -q --pdb -o $T/wcpdb $T/wcl.bundle && tail -14 $T/wcpdb/protein_ligand/seed_42/protein_ligand_seed_42_sample_1_model.pdb
0	protein_ligand_model.pdb	$TESTS/test_writecif_metrics --make-diffuse tiny_protein_ligand $T/wcl.bundle && $BIN/of3-writecif -q --pdb --layout alphafold3 -o $T/wcpdbaf $T/wcl.bundle && ls $T/wcpdbaf/protein_ligand $T/wcpdbaf/protein_ligand/seed-42_sample-1
0	model.pdb	$TESTS/test_writecif_metrics --make-diffuse tiny_protein_ligand $T/wcl.bundle && $BIN/of3-writecif -q --pdb --layout alphafold3 -o $T/wcpdbaf $T/wcl.bundle && ls $T/wcpdbaf/protein_ligand/seed-42_sample-1
2	coordinate 12345.600 is outside the PDB format's -999.999..9999.999; --pdb cannot write this query	$TESTS/test_writecif_metrics --make-diffuse tiny_protein $T/far.bundle --far && $BIN/of3-writecif --pdb -o $T/wcfar $T/far.bundle; s=$?; test ! -e $T/wcfar || s=9; exit $s
0	query 'protein': 2 samples of 36 tokens	$TESTS/test_writecif_metrics --make-diffuse tiny_protein $T/far.bundle --far && $BIN/of3-writecif -o $T/wcfar2 $T/far.bundle
2	coordinate is NaN	$TESTS/test_writecif_metrics --make-diffuse tiny_protein $T/nan.bundle --nan && $BIN/of3-writecif --pdb -o $T/wcnanpdb $T/nan.bundle; s=$?; test ! -e $T/wcnanpdb || s=9; exit $s
0	bundle 1: kind assembly, query 'ubiquitin'	$BIN/of3-parse examples/query_ubiquitin.json | $BIN/of3-inspect
0	tensor atom_token_id                i32  [601]              min 0            max 75	$BIN/of3-parse examples/query_ubiquitin.json | $BIN/of3-inspect
0	bundle 2: kind assembly, query 'mcl1_lig2'	$BIN/of3-parse -o $T/two.bundle examples/query_protein_ligand_multiple.json && $BIN/of3-inspect $T/two.bundle
0	# 9 passed, 0 failed	printf '%s' '{"queries":{"s":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"AGRKHX","non_canonical_residues":{"2":"SEP"}},{"molecule_type":"ligand","chain_ids":["L","M"],"ccd_codes":"ATP"},{"molecule_type":"rna","chain_ids":"R","sequence":"AUN"}]}}}' > $T/s.json && $BIN/of3-parse --ccd tests/fixtures/ccd/sample_components.cif $T/s.json -o $T/a.bundle && $BIN/of3-parse $T/s.json -o $T/b.bundle && $TESTS/bundle_compare $T/a.bundle $T/b.bundle atom_name atom_element atom_charge atom_res_name atom_bonds atom_token_id atom_ccd_pos
2	residue 3: unknown CCD code 'MET' (not in mmCIF tests/fixtures/ccd/sample_components.cif)	$BIN/of3-parse --ccd tests/fixtures/ccd/sample_components.cif examples/query_homomer.json -o $T/out.bundle
2	cannot open the Chemical Component Dictionary $T/missing.cif	$BIN/of3-parse --ccd $T/missing.cif examples/query_ubiquitin.json -o $T/out.bundle
2	query 'q', chain 2 (id A): chain id 'A' is already used by chain 1	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKV"},{"molecule_type":"protein","chain_ids":["A"],"sequence":"GG"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	query 'q', chain 1 (id A): molecule_type 'peptide' is not one of protein, rna, dna, ligand	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"peptide","chain_ids":"A","sequence":"MKV"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	query 'q', chain 1 (id A): "sequence" is empty	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":""}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	query 'q', chain 1 (id A): sequence position 3: '-' is not an upper-case one-letter code	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MK-V"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	non_canonical_residues: position 7 is outside the sequence (1 to 3)	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKV","non_canonical_residues":{"7":"SEP"}}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	non_canonical_residues: key 'x' is not a position	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKV","non_canonical_residues":{"x":"SEP"}}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	query 'q', chain 1 (id L): unknown CCD code 'QQQQQ'	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","ccd_codes":"QQQQQ"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	query 'q', chain 1 (id A): residue 2: unknown CCD code 'QQQQQ'	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKV","non_canonical_residues":{"2":"QQQQQ"}}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	query 'q', chain 1 (id L): SMILES 'C1CC(('	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","smiles":"C1CC(("}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	query 'q', chain 1: "chain_ids": expected a string or a list of strings, got a number	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":7,"sequence":"MKV"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	query 'q', chain 1 (id A): missing "molecule_type"	printf '%s' '{"queries":{"q":{"chains":[{"chain_ids":"A","sequence":"MKV"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	query 'bad', chain 1 (id A): sequence position 2: '1' is not an upper-case one-letter code	printf '%s' '{"queries":{"ok":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKV"}]},"bad":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"M1V"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	stdin: empty file, no query in it	printf '' | $BIN/of3-parse -o $T/out.bundle
2	empty file, no query in it	$BIN/of3-parse tests/fixtures/queries_bad/empty.json -o $T/out.bundle
2	malformed JSON	$BIN/of3-parse tests/fixtures/queries_bad/not_json.fasta -o $T/out.bundle
2	stdin: larger than 64 MiB, not a query file	head -c 100000000 /dev/zero | tr '\0' 'x' | $BIN/of3-parse -o $T/out.bundle
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
# Checkpoints (issue #7): of3-inspect on torch.save files, good and bad (tools/checkpoint/make_bad.py).
0	checkpoint tests/fixtures/of3_tiny_random.pt: 1562613 bytes	$BIN/of3-inspect tests/fixtures/of3_tiny_random.pt
0	layout p1 (of3_ft3_v1.pt)	$BIN/of3-inspect tests/fixtures/of3_tiny_random.pt
0	weights: the file's state dict, 153 sample_diffusion.diffusion_module.* copies folded	$BIN/of3-inspect tests/fixtures/of3_tiny_random.pt
0	556 tensors, 249596 parameters (0.998 MB; f32 556)	$BIN/of3-inspect tests/fixtures/of3_tiny_random.pt
0	tensor f32  [16, 3]              input_embedder.atom_attn_enc.ref_atom_feature_embedder.linear_ref_pos.weight	$BIN/of3-inspect tests/fixtures/of3_tiny_random.pt
0	tensor f32  [64, 16]             aux_heads.pae.linear.weight	$BIN/of3-inspect -o $T/inspect.txt tests/fixtures/of3_tiny_random.pt && cat $T/inspect.txt
0	== tests/fixtures/checkpoint/ok_bf16.pt	$BIN/of3-inspect tests/fixtures/checkpoint/ok_bf16.pt $T/features.bundle
0	tensor bf16 [3, 4]               a	$BIN/of3-inspect tests/fixtures/checkpoint/ok_bf16.pt
0	3 tensors, 21 parameters (0.000 MB; f32 1 f16 2)	$BIN/of3-inspect tests/fixtures/checkpoint/ok_f16.pt
0	weights: the EMA weights (['ema']['params']) of a training checkpoint	$BIN/of3-inspect tests/fixtures/checkpoint/ok_ema.pt
0	weights: the file's state dict, 'model.' prefix stripped	$BIN/of3-inspect tests/fixtures/checkpoint/ok_model_prefix.pt
0	tensor f32  [6]                  z.bias	$BIN/of3-inspect tests/fixtures/checkpoint/ok_zip64.pt
0	layout p2 (of3-p2-155k.pt): recognised, not supported yet by of3-trunk and of3-diffuse	$BIN/of3-inspect tests/fixtures/checkpoint/layout_p2.pt
0	layout OpenBind (of3-ob-2025-06-30-174k.pt): recognised, not supported yet	$BIN/of3-inspect tests/fixtures/checkpoint/layout_openbind.pt
0	version_tensor [2, 0, 0]	$BIN/of3-inspect tests/fixtures/checkpoint/layout_openbind.pt
0	layout unknown: not one of the OpenFold3 layouts p1, p2, OpenBind	$BIN/of3-inspect tests/fixtures/checkpoint/layout_unknown.pt
2	bad_not_zip.pt: byte 0: not an of3 bundle	$BIN/of3-inspect tests/fixtures/checkpoint/bad_not_zip.pt
2	bad_no_pickle.pt: a zip archive without <folder>/data.pkl: not a torch.save checkpoint	$BIN/of3-inspect tests/fixtures/checkpoint/bad_no_pickle.pt
2	bad_global_os_system/data.pkl: byte 2: GLOBAL 'os system' is not allowed	$BIN/of3-inspect tests/fixtures/checkpoint/bad_global_os_system.pt
2	bad_opcode_inst/data.pkl: byte 15: opcode 0x69 (INST) is not allowed	$BIN/of3-inspect tests/fixtures/checkpoint/bad_opcode_inst.pt
2	checkpoint key 'weight': needs bytes [0, 256) of storage 'bad_truncated_storage/data/1', which holds 100 bytes (truncated storage)	$BIN/of3-inspect tests/fixtures/checkpoint/bad_truncated_storage.pt
2	not a zip archive, or a truncated one (no end-of-central-directory record	$BIN/of3-inspect tests/fixtures/checkpoint/bad_truncated_file.pt
2	bad_truncated_pickle/data.pkl: byte 190: the pickle ends without a STOP opcode (truncated)	$BIN/of3-inspect tests/fixtures/checkpoint/bad_truncated_pickle.pt
2	checkpoint key 'w64': dtype float64 (torch.DoubleStorage); only float32, bfloat16 and float16 weights are read	$BIN/of3-inspect tests/fixtures/checkpoint/bad_double.pt
2	checkpoint key 'steps': dtype int64 (torch.LongStorage)	$BIN/of3-inspect tests/fixtures/checkpoint/bad_int64.pt
2	checkpoint key 't': not contiguous (shape [4, 3], strides [1, 4])	$BIN/of3-inspect tests/fixtures/checkpoint/bad_noncontiguous.pt
2	checkpoint key 'sample_diffusion.diffusion_module.w': f32 [4, 2], but its twin 'diffusion_module.w' is f32 [4, 3]	$BIN/of3-inspect tests/fixtures/checkpoint/bad_dup_shape.pt
2	checkpoint key 'model.x': appears twice in the state dict (as 'x')	$BIN/of3-inspect tests/fixtures/checkpoint/bad_repeated_key.pt
2	is compressed (method 8); torch.save stores entries uncompressed	$BIN/of3-inspect tests/fixtures/checkpoint/bad_compressed.pt
2	a PyTorch checkpoint in the legacy format	$BIN/of3-inspect tests/fixtures/checkpoint/bad_legacy.pt
2	a big-endian checkpoint	$BIN/of3-inspect tests/fixtures/checkpoint/bad_big_endian.pt
2	a training checkpoint (it has 'state_dict') without EMA weights	$BIN/of3-inspect tests/fixtures/checkpoint/bad_no_ema.pt
2	of3-inspect: tests/fixtures/checkpoint/bad_global_os_system.pt	$BIN/of3-inspect -o $T/out.bundle tests/fixtures/checkpoint/bad_global_os_system.pt
# of3-featurize --cache: the second run reads the entry and gives identical bytes; a changed MSA
# file is a new entry; a damaged entry is ignored with a note and made again.
0	features from the cache	$BIN/of3-parse examples/query_homomer.json -o $T/h.asm && $BIN/of3-featurize --cache $T/cache $T/h.asm -o $T/h1.f && $BIN/of3-featurize -v --cache $T/cache $T/h.asm -o $T/h2.f 2>&1 && cmp $T/h1.f $T/h2.f
0	entries: 2	mkdir -p $T/msa && printf '>q\nMKVL\n>s1\nMKIL\n' >$T/msa/uniref90_hits.a3m && printf '{"queries":{"q":{"chains":[{"molecule_type":"protein","chain_ids":"A","sequence":"MKVL","main_msa_file_paths":"%s"}]}}}' $T/msa >$T/q.json && $BIN/of3-parse $T/q.json -o $T/q.asm && $BIN/of3-featurize --cache $T/c2 $T/q.asm -o $T/a.f && printf '>s2\nMRVL\n' >>$T/msa/uniref90_hits.a3m && $BIN/of3-featurize -v --cache $T/c2 $T/q.asm -o $T/b.f 2>&1 | grep -c 'from the cache' | sed 's/^/hits: /' && echo "entries: $(ls $T/c2 | wc -l)"
0	ignoring cache entry	$BIN/of3-parse examples/query_homomer.json -o $T/h.asm && $BIN/of3-featurize --cache $T/c3 $T/h.asm -o $T/h1.f && for f in $T/c3/*.features; do echo garbage >$f; done && $BIN/of3-featurize --cache $T/c3 $T/h.asm -o $T/h2.f 2>&1 && cmp $T/h1.f $T/h2.f
# SMILES ligands (issue #6): reader errors name the position; conformers for ions and salts.
2	ring bond 1 is never closed (position 2)	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","smiles":"C1CC"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	')' closes no branch (position 3)	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","smiles":"CC)C"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	unknown element (position 2)	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","smiles":"[Xx]C"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	has valence 5, more than C allows (position 1)	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","smiles":"C(C)(C)(C)(C)C"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	unclosed bracket atom (position 1)	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","smiles":"[CH3"}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	"smiles" is empty	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","smiles":""}]}}}' | $BIN/of3-parse -o $T/out.bundle
2	more than 10000 atoms (position 10001)	printf '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","smiles":"%s"}]}}}' "$(printf 'C%.0s' $(seq 10001))" | $BIN/of3-parse -o $T/out.bundle
2	bonded metal atoms are not supported by the conformer generator	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","smiles":"N.N.Cl[Pt]Cl"}]}}}' | $BIN/of3-parse | $BIN/of3-featurize -o $T/out.bundle
0	tensor ref_pos                      f32  [1, 3]	printf '%s' '{"queries":{"q":{"chains":[{"molecule_type":"ligand","chain_ids":"L","smiles":"[Na+]"}]}}}' | $BIN/of3-parse | $BIN/of3-featurize | $BIN/of3-inspect
# of3 predict, the driver (issue #9). Preflight errors exit 2 and write nothing; a failing query
# does not stop the others; the exit status is 2 when every failure was bad input, 1 otherwise.
0	Usage: of3 predict -w WEIGHTS -o DIR	$BIN/of3 predict --help
0	--seeds N       N model seeds, the ones OpenFold3's --num_model_seeds N runs	$BIN/of3 predict --help
0	predict   query files to structures	$BIN/of3 --help
0	of3 0.1.0	$BIN/of3 --version
2	unknown command 'frob'	$BIN/of3 frob
2	Usage: of3 <command>	$BIN/of3
2	no weights: give -w FILE	$BIN/of3 predict -o $T/pd examples/query_ubiquitin.json
2	no output directory: give -o DIR	$BIN/of3 predict -w tests/fixtures/of3_tiny_random.pt examples/query_ubiquitin.json
2	no query file	$BIN/of3 predict -w tests/fixtures/of3_tiny_random.pt -o $T/pd
2	--seeds: 0 is outside 1..1000	$BIN/of3 predict --seeds 0 -w tests/fixtures/of3_tiny_random.pt -o $T/pd examples/query_ubiquitin.json
2	--seed: '7x' is not a whole number	$BIN/of3 predict --seed 1,7x -w tests/fixtures/of3_tiny_random.pt -o $T/pd examples/query_ubiquitin.json
2	give --seeds N or --seed S, not both	$BIN/of3 predict --seeds 2 --seed 1 -w tests/fixtures/of3_tiny_random.pt -o $T/pd examples/query_ubiquitin.json
2	--layout: 'pdb' is neither openfold3 nor alphafold3	$BIN/of3 predict --layout pdb -w tests/fixtures/of3_tiny_random.pt -o $T/pd examples/query_ubiquitin.json
2	--device: 'gpu' is not auto, cpu, cuda or cuda:N	$BIN/of3 predict --device gpu -w tests/fixtures/of3_tiny_random.pt -o $T/pd examples/query_ubiquitin.json
2	of3: query file $T/none.json: No such file or directory	$BIN/of3 predict -w tests/fixtures/of3_tiny_random.pt -o $T/pd examples/query_ubiquitin.json $T/none.json; s=$?; test ! -e $T/pd || s=9; exit $s
2	of3: weights $T/none.pt: No such file or directory	$BIN/of3 predict -w $T/none.pt -o $T/pd examples/query_ubiquitin.json; s=$?; test ! -e $T/pd || s=9; exit $s
2	checkpoint layout p2 (of3-p2-155k.pt) recognised, not supported yet	$BIN/of3 predict -w tests/fixtures/checkpoint/layout_p2.pt -o $T/pd examples/query_ubiquitin.json; s=$?; test ! -e $T/pd || s=9; exit $s
2	bad_not_zip.pt: not a zip archive	$BIN/of3 predict -w tests/fixtures/checkpoint/bad_not_zip.pt -o $T/pd examples/query_ubiquitin.json; s=$?; test ! -e $T/pd || s=9; exit $s
2	output directory $T/plainfile/out: $T/plainfile is in the way (not a directory)	touch $T/plainfile && $BIN/of3 predict -w tests/fixtures/of3_tiny_random.pt -o $T/plainfile/out examples/query_ubiquitin.json
# Three files, the middle one with an unknown CCD code, two seeds (OpenFold3's first two): the
# other queries are written with timing.json, the temporary folder is gone, exit status 2.
2	2 queries succeeded, 1 failed	printf '%s' '{"queries":{"bad":{"chains":[{"molecule_type":"ligand","chain_ids":"L","ccd_codes":"ZZZQ"}]}}}' >$T/badq.json && $BIN/of3 predict -w tests/fixtures/of3_tiny_random.pt -o $T/pm --seeds 2 --cycles 1 --samples 1 --steps 2 --device cpu tests/fixtures/queries/protein.json $T/badq.json tests/fixtures/queries/protein_ligand.json >$T/pm.out 2>&1; s=$?; grep -q '"runtime_s": ' $T/pm/protein/seed_2746317213/timing.json && ls $T/pm/protein_ligand/seed_1181241943/protein_ligand_seed_1181241943_sample_1_model.cif $T/pm/protein/ranking.csv >/dev/null && test -z "$(ls -A $T/pm | grep of3-tmp)" && grep -q "failed at of3-parse (exit 2): of3-parse: $T/badq.json: query 'bad', chain 1 (id L): unknown CCD code 'ZZZQ'" $T/pm.out && grep -Eq '^protein +36 +294 .* \(seed (2746317213|1181241943), sample 1\)$' $T/pm.out && cat $T/pm.out && exit $s
# A runtime failure (of3-writecif finds a file where the query's folder goes) fails that query
# with exit status 1; the next one runs; --cache stores each seed's features;
# --keep-intermediates keeps the stages' bundles.
1	failed at of3-writecif (exit 1)	mkdir -p $T/pr && touch $T/pr/protein && $BIN/of3 predict -w tests/fixtures/of3_tiny_random.pt -o $T/pr --seed 7 --cycles 1 --samples 1 --steps 1 --device cpu --cache $T/pcache --keep-intermediates tests/fixtures/queries/protein.json tests/fixtures/queries/protein_ligand.json >$T/pr.out 2>&1; s=$?; ls $T/pr/protein_ligand/seed_7/timing.json $T/pr/.of3-tmp.*/q0_s7.diffuse >/dev/null && test "$(ls $T/pcache | wc -l)" = 2 && grep -q "intermediate bundles kept in $T/pr/.of3-tmp." $T/pr.out && grep -q "1 query succeeded, 1 failed" $T/pr.out && cat $T/pr.out && exit $s
