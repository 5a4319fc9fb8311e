# Corrupt streams (made by `bundle_tool corrupt NAME`): each must make of3-inspect exit 2 with a
# message containing the text after the tab, both from a file (mmap'ed) and from a pipe.
# name	expected text in the message
bad-magic	not an of3 bundle: the header map lacks "of3": "bundle"
no-magic	not an of3 bundle
not-a-map	byte 0: not an of3 bundle: found msgpack data (an array)
json-text	a JSON file? of3-parse turns queries into bundles
byte-c1	byte 0: the bundle header: not msgpack data (byte 0xc1)
version-2	bundle format version 2; this program reads version 1
no-kind	bundle header has no "kind"
kind-not-string	"kind" is an integer, not a string
meta-not-map	"meta" is an integer, not a map
unknown-dtype	byte 77: tensor 'x': unknown dtype "f8"
dtype-not-string	tensor 'x': "dtype" is an integer, not a string
shape-not-array	tensor 'x': "shape" is missing or not an array
negative-dim	tensor 'x': dimension 1 is not a non-negative integer
nine-dims	tensor 'x': 9 dimensions, at most 8 are allowed
nbytes-mismatch	tensor 'x': "nbytes" is 20 but shape [2, 3] of f32 needs 24
nbytes-negative	"nbytes" must be a non-negative integer, not a negative one
chunks-zero	tensor 'x': 0 chunks cannot hold 24 bytes
chunks-too-many	tensor 'x': "nbytes" is reached with 2 chunks still announced
chunk-too-big	tensor 'x': a chunk of 30 bytes where 24 remain
chunk-missing	byte 146: tensor 'x': expected a bin chunk, found byte 0x82 (12 of 24 bytes read)
chunk-extra	byte 158: record 2 of query 'q1': expected a record map, found a bin
chunk-empty	tensor 'x': a chunk of 0 bytes where 24 remain
duplicate-name	byte 158: tensor 'x': the name appears twice in one bundle
empty-name	a tensor has an empty name
unknown-record	unknown record type "picture"
record-not-map	record 1 of query 'q1': expected a record map, found an integer
end-count	the end record counts 2 records, the bundle has 1
no-end	byte 158: truncated: the stream ends where record 2 of query 'q1' should begin, after tensor 'x'
value-missing	value 'v' has no "value"
huge-string	byte 77: truncated: the stream ends inside record 1 of query 'q1'
trailing-garbage	byte 286: after 1 complete bundle: found an integer where the next bundle's header should be
empty-stream	empty stream, no bundle in it
zeros-with-chunks	tensor 'x': "zeros" must be true or false, and a zeros tensor has no chunks
zeros-not-bool	tensor 'x': "zeros" must be true or false
