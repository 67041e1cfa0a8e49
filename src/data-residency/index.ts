export { EEA_REGIONS, judgeRegion, parseRegionExceptions, RegionRefused, type RegionException, type RegionJudgement } from '../shared/eea-regions.js';
export { createRegionExceptionRecord, REGION_EXCEPTION_USED } from './record-region-exception.js';
