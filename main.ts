// The CDKTF app: `cdktf synth|diff|deploy` runs this (cdktf.json), and so does `npm start` (scripts/start.ts).
import { loadConfigOrExit } from './config/cli';
import { buildApp } from './stacks/app';

const { app } = buildApp(loadConfigOrExit(), process.env.CDKTF_OUTDIR ?? 'cdktf.out');
app.synth();
