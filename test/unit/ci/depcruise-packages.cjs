// The project's dependency-cruiser options, but keeping the edges into node_modules (the layer rules exclude
// them): test/unit/ci/dependencies.test.ts reads which packages the code imports from this cruise.
const base = require('../../../.dependency-cruiser.cjs');

module.exports = { options: { ...base.options, exclude: { path: '^(cdktf\\.out|\\.cache|coverage|reports)/' } } };
