//! AWS service prefixes (the `iam` of `iam:CreateUser`), from the Service Authorization
//! Reference. Used only to tell a NotAction that excludes a real service from one that
//! excludes a service that does not exist (which excludes nothing): both grant IAM and so
//! are admin either way; the list decides whether the report says "every action" or
//! "every action except …". An unlisted new service therefore costs a label, not a finding.

const PREFIXES: &str = "a4b access-analyzer account acm acm-pca activate aiops airflow amplify amplifybackend \
amplifyuibuilder aoss apigateway app-integrations appconfig appfabric appflow application-autoscaling \
application-cost-profiler application-signals applicationinsights appmesh appmesh-preview apprunner appstream \
appsync aps arc-zonal-shift arsenal artifact athena auditmanager autoscaling autoscaling-plans aws-marketplace \
aws-marketplace-management aws-portal awsconnector b2bi backup backup-gateway backup-storage batch bcm-data-exports \
bedrock bedrock-agentcore billing billingconductor braket budgets bugbust cases cassandra ce chatbot chime cleanrooms cleanrooms-ml \
cloud9 clouddirectory cloudformation cloudfront cloudhsm cloudsearch cloudshell cloudtrail cloudtrail-data \
cloudwatch codeartifact codebuild codecatalyst codecommit codeconnections codedeploy codedeploy-commands-secure \
codeguru codeguru-profiler codeguru-reviewer codeguru-security codepipeline codestar codestar-connections \
codestar-notifications codewhisperer cognito-identity cognito-idp cognito-sync comprehend comprehendmedical \
compute-optimizer config connect connect-campaigns consoleapp consolidatedbilling controltower cost-optimization-hub \
cur customer-verification databrew dataexchange datapipeline datasync datazone dax deadline deepcomposer deeplens \
deepracer detective devicefarm devops-guru directconnect discovery dlm dms docdb-elastic drs ds dynamodb ebs ec2 \
ec2-instance-connect ec2messages ecr ecr-public ecs eks elasticache elasticbeanstalk elasticfilesystem \
elasticloadbalancing elasticmapreduce elastictranscoder elemental-activations elemental-appliances-software \
elemental-support-cases elemental-support-content emr-containers emr-serverless entityresolution es events \
evidently execute-api finspace finspace-api firehose fis fms forecast frauddetector freertos freetier fsx gamelift \
gamesparks geo glacier globalaccelerator glue grafana greengrass groundstation groundtruthlabeling guardduty health \
healthlake honeycode iam identity-sync identitystore identitystore-auth imagebuilder importexport inspector \
inspector-scan inspector2 internetmonitor invoicing iot iot-device-tester iot1click iotanalytics iotdeviceadvisor \
iotevents iotfleethub iotfleetwise iotjobsdata iotmanagedintegrations iotroborunner iotsitewise iottwinmaker \
iotwireless iq iq-permission ivs ivschat kafka kafka-cluster kafkaconnect kendra kendra-ranking kinesis \
kinesisanalytics kinesisvideo kms lakeformation lambda launchwizard lex license-manager \
license-manager-linux-subscriptions license-manager-user-subscriptions lightsail logs lookoutequipment \
lookoutmetrics lookoutvision m2 machinelearning macie2 managedblockchain managedblockchain-query mapcredits \
marketplacecommerceanalytics mechanicalturk mediaconnect mediaconvert mediaimport medialive mediapackage \
mediapackage-vod mediapackagev2 mediastore mediatailor medical-imaging memorydb mgh mgn migrationhub-orchestrator \
migrationhub-strategy mobileanalytics mobiletargeting monitron mq neptune-db neptune-graph network-firewall \
networkmanager networkmonitor nimble notifications notifications-contacts oam omics one opensearch \
opsworks opsworks-cm organizations osis outposts panorama partnercentral payment-cryptography payments pca-connector-ad \
personalize pi pipes polly pricing private-networks profile proton purchase-orders q qapps qbusiness qdeveloper \
qldb quicksight ram rbin rds rds-data rds-db redshift redshift-data redshift-serverless refactor-spaces rekognition \
repostspace resiliencehub resource-explorer-2 resource-groups rhelkb robomaker rolesanywhere route53 \
route53-recovery-cluster route53-recovery-control-config route53-recovery-readiness route53domains route53resolver \
rum s3 s3-object-lambda s3-outposts s3express s3tables sagemaker sagemaker-geospatial sagemaker-groundtruth-synthetic \
savingsplans scheduler schemas scn sdb secretsmanager securityhub securitylake serverlessrepo servicecatalog \
servicediscovery servicequotas ses shield signer signin simspaceweaver sms sms-voice snow-device-management snowball \
sns social-messaging sqlworkbench sqs ssm ssm-contacts ssm-guiconnect ssm-incidents ssm-quicksetup ssmmessages sso \
sso-directory sso-oauth states storagegateway sts support supportapp supportplans supportrecommendations sustainability \
swf synthetics tag tax textract thinclient timestream timestream-influxdb tiros tnb transcribe transfer translate \
trustedadvisor ts user-subscriptions vendor-insights verified-access verifiedpermissions voiceid vpc-lattice \
vpc-lattice-svcs vpce waf waf-regional wafv2 wam wellarchitected wickr wisdom workdocs worklink workmail \
workmailmessageflow workspaces workspaces-web xray";

/// Is `prefix` (lower case) a known AWS service prefix?
pub fn is_known_service(prefix: &str) -> bool {
    static KNOWN: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    KNOWN.get_or_init(|| PREFIXES.split_ascii_whitespace().collect()).contains(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_common_services_and_not_made_up_ones() {
        for prefix in ["iam", "sts", "organizations", "s3", "ec2", "aws-portal", "budgets", "ce", "account"] {
            assert!(is_known_service(prefix), "{prefix}");
        }
        assert!(!is_known_service("notarealservice"));
        assert!(!is_known_service("zzfutureservice"));
    }
}
