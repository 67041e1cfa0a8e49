/**
 * Where personal data may lie: the municipality promises that it stays in the EU/EEA. A store (and any
 * source that is a bucket) declares its region; a region not known to be in the EU/EEA is refused unless
 * the operator names it, with a reason, in ALLOW_NON_EEA_REGION. For a custom endpoint (an on-premises
 * MinIO, s3rver) the declared region is the operator's statement, judged the same way.
 */

/**
 * Region names known to lie in an EU/EEA country, as the providers spell them. London (eu-west-2,
 * europe-west2) and Zurich (eu-central-2, europe-west6) carry "eu"/"europe" in their names but are
 * outside the EU/EEA, so they are not here.
 */
export const EEA_REGIONS: ReadonlyMap<string, string> = new Map([
  // Amazon Web Services
  ['eu-north-1', 'Stockholm, Sweden'],
  ['eu-central-1', 'Frankfurt, Germany'],
  ['eu-west-1', 'Ireland'],
  ['eu-west-3', 'Paris, France'],
  ['eu-south-1', 'Milan, Italy'],
  ['eu-south-2', 'Aragón, Spain'],
  ['eusc-de-east-1', 'Brandenburg, Germany (AWS European Sovereign Cloud)'],
  // Google Cloud Storage (S3-compatible XML API)
  ['europe-north1', 'Hamina, Finland'],
  ['europe-north2', 'Stockholm, Sweden'],
  ['europe-west1', 'St. Ghislain, Belgium'],
  ['europe-west3', 'Frankfurt, Germany'],
  ['europe-west4', 'Eemshaven, Netherlands'],
  ['europe-west8', 'Milan, Italy'],
  ['europe-west9', 'Paris, France'],
  ['europe-west10', 'Berlin, Germany'],
  ['europe-west12', 'Turin, Italy'],
  ['europe-central2', 'Warsaw, Poland'],
  ['europe-southwest1', 'Madrid, Spain'],
  // European S3-compatible providers
  ['fr-par', 'Paris, France (Scaleway)'],
  ['nl-ams', 'Amsterdam, Netherlands (Scaleway)'],
  ['pl-waw', 'Warsaw, Poland (Scaleway)'],
  ['fsn1', 'Falkenstein, Germany (Hetzner)'],
  ['nbg1', 'Nuremberg, Germany (Hetzner)'],
  ['hel1', 'Helsinki, Finland (Hetzner)'],
]);

/** One operator exception: a region outside the known EU/EEA list, and why it may hold the data. */
export interface RegionException {
  region: string;
  reason: string;
}

/** How a declared region was judged: in the EU/EEA, or allowed by a named exception. */
export type RegionJudgement = { region: string; eea: true; place: string } | { region: string; eea: false; exception: RegionException };

/** Why a declared region was refused: the message names the region and the way to allow it. */
export class RegionRefused extends Error {
  constructor(readonly region: string, readonly setting: string) {
    super(
      `${setting} "${region}" is not a known EU/EEA region, and the municipality promises that personal data stays in the EU/EEA. ` +
        `Use a region in the EU/EEA (e.g. eu-north-1, Stockholm), or, if this region is allowed to hold the data (for example ` +
        `an on-premises store in Sweden that calls itself ${region}), name it with a reason: ALLOW_NON_EEA_REGION="${region}:<why it is allowed>"`,
    );
  }
}

/**
 * Reads ALLOW_NON_EEA_REGION: `region:reason`, several separated by `;`. A region with no reason is
 * refused: the exception is audited at every start and must say why.
 */
export function parseRegionExceptions(text: string): RegionException[] | { error: string } {
  const out: RegionException[] = [];
  for (const part of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const colon = part.indexOf(':');
    const region = colon < 0 ? part : part.slice(0, colon).trim();
    const reason = colon < 0 ? '' : part.slice(colon + 1).trim();
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/i.test(region)) return { error: `"${region}" is not a region name; write region:reason, e.g. us-east-1:on-premises MinIO in Lund` };
    if (reason.length < 3) return { error: `${region} needs a reason after a colon, e.g. ${region}:on-premises MinIO in Lund` };
    out.push({ region, reason });
  }
  return out;
}

/** Judges a declared region; throws RegionRefused when it is neither in the EU/EEA nor allowed. */
export function judgeRegion(region: string, exceptions: readonly RegionException[], setting: string): RegionJudgement {
  const place = EEA_REGIONS.get(region.toLowerCase());
  if (place) return { region, eea: true, place };
  const exception = exceptions.find((e) => e.region.toLowerCase() === region.toLowerCase());
  if (exception) return { region, eea: false, exception };
  throw new RegionRefused(region, setting);
}
