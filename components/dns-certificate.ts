/**
 * An ACM certificate validated by DNS in the stack's zone: one certificate, one
 * validation record per name, and the validation that waits for issue. Used by
 * the futures UI (us-east-1, for CloudFront) and the notifications ALB.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { DnsTarget, zoneRecord } from "./dns-zone";

export interface DnsValidatedCertificateArgs {
  /** The names it covers, the first as the certificate's domain; each `key` is part of its record's logical name. */
  readonly names: readonly {
    /** Part of the validation record's logical name: `site`. */
    readonly key: string;
    /** The host name: `futures.dev.lumerin.io`. */
    readonly host: string;
  }[];
  /** The zone the validation records go in (with its provider when in another account). */
  readonly dns: DnsTarget;
  /**
   * Where the certificate is issued: CloudFront needs us-east-1.
   * @default undefined (the parent's provider: the stack's region)
   */
  readonly provider?: aws.Provider;
  /** The component the certificate, its records and its validation belong to. */
  readonly parent: pulumi.Resource;
}

export interface DnsValidatedCertificate {
  /** The certificate (its ARN is usable before issue: listeners and distributions take {@link validatedArn}). */
  readonly certificate: aws.acm.Certificate;
  /** The ARN once ACM has issued it: what listeners and distributions must use. */
  readonly validatedArn: pulumi.Output<string>;
}

/** `<name>-certificate`, `<name>-certificate-validation-<key>` per name, `<name>-certificate-validation`. */
export function dnsValidatedCertificate(name: string, args: DnsValidatedCertificateArgs): DnsValidatedCertificate {
  const [first, ...others] = args.names;
  if (!first) throw new Error(`${name}: a certificate needs at least one name`);
  const issuer = { parent: args.parent, ...(args.provider ? { provider: args.provider } : {}) };
  const certificate = new aws.acm.Certificate(
    `${name}-certificate`,
    {
      domainName: first.host,
      ...(others.length > 0 ? { subjectAlternativeNames: others.map((n) => n.host) } : {}),
      validationMethod: "DNS",
      keyAlgorithm: "RSA_2048",
      tags: { Name: first.host },
    },
    issuer,
  );
  const records = args.names.flatMap(({ key, host }) => {
    // ACM answers when the certificate is created (a preview shows these unknown).
    const option = certificate.domainValidationOptions.apply((options) => {
      const found = validationOptionFor(options, host);
      if (!found) throw new Error(`${host}: ACM returned no DNS validation record for the certificate`);
      return found;
    });
    const record = zoneRecord(
      `${name}-certificate-validation-${key}`,
      args.dns,
      {
        name: option.resourceRecordName,
        type: option.resourceRecordType,
        records: [option.resourceRecordValue],
        ttl: 300,
        // ACM gives every certificate of this account for a name the same record: a
        // certificate that replaces this one (or the live Terraform's) reuses it.
        allowOverwrite: true,
      },
      { parent: args.parent },
      `ACM's validation CNAME of ${host}`,
    );
    return record ? [record] : [];
  });
  // With no record registered (the zone's role is pending) the validation has nothing to name; it is never applied then.
  const validation = new aws.acm.CertificateValidation(
    `${name}-certificate-validation`,
    {
      certificateArn: certificate.arn,
      ...(records.length > 0 ? { validationRecordFqdns: records.map((r) => r.fqdn) } : {}),
    },
    { ...issuer, dependsOn: records },
  );
  return { certificate, validatedArn: validation.certificateArn };
}

/** ACM's validation answer for one name of the certificate. */
export function validationOptionFor(
  options: readonly aws.types.output.acm.CertificateDomainValidationOption[] | undefined,
  domain: string,
): aws.types.output.acm.CertificateDomainValidationOption | undefined {
  return (options ?? []).find((o) => o.domainName === domain);
}
