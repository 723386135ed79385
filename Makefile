# nomine: `make demo` shows the main job end to end; `make test` runs the whole suite. Both install what they need.
.PHONY: deps services build demo test bench clean

deps:
	bash scripts/install-deps.sh

services: deps
	bash scripts/start-services.sh

build: deps
	npm run build

demo: services build
	node --import tsx scripts/demo.ts

test: services build
	npm run typecheck
	npm test

bench: services build
	npm run bench:scan

clean:
	rm -rf dist
